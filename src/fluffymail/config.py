"""Settings: the one configuration object, read from the environment and `.env`.

Built only by entry points (the CLI, the web app factory) and passed down; nothing else reads
`os.environ`. Precedence: explicit arguments > environment > `.env` > defaults.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from pathlib import Path
from typing import Self

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_HOST_NAME = re.compile(r"(?i)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?")


def parse_queue_concurrency(spec: str) -> dict[str, int]:
    """Parse `"sync-emails:2,extract-contacts:5"` into `{"sync-emails": 2, ...}` (oban-py style)."""
    result: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, count = item.partition(":")
        if not name or not count.strip().isdigit() or int(count) < 1:
            raise ValueError(
                f"bad queue spec {item!r}: expected NAME:CONCURRENCY with CONCURRENCY >= 1"
            )
        result[name.strip()] = int(count)
    return result


def parse_outbound_allow(
    spec: str,
) -> tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...], frozenset[str]]:
    """Parse `"127.0.0.1,10.0.0.0/8,mail.lan"` into (networks, lower-cased host names)."""
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    hosts: set[str] = set()
    for item in filter(None, (part.strip() for part in spec.split(","))):
        try:
            networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
        except ValueError:
            if not _HOST_NAME.fullmatch(item):
                raise ValueError(
                    f"bad FLUFFYMAIL_OUTBOUND_ALLOW entry {item!r}: expected an address, "
                    "a network like 10.0.0.0/8 or a host name"
                ) from None
            hosts.add(item.casefold().rstrip("."))
    return tuple(networks), frozenset(hosts)


def parse_ports(spec: str) -> frozenset[int]:
    """Parse `"1143,10993"` into port numbers (1 to 65535)."""
    ports: set[int] = set()
    for item in filter(None, (part.strip() for part in spec.split(","))):
        if not item.isdigit() or not 1 <= int(item) <= 65535:
            raise ValueError(f"bad FLUFFYMAIL_OUTBOUND_PORTS entry {item!r}: expected 1 to 65535")
        ports.add(int(item))
    return frozenset(ports)


class Settings(BaseSettings):
    """Everything FluffyMail can be configured with; env vars are `FLUFFYMAIL_<FIELD>`."""

    model_config = SettingsConfigDict(
        env_prefix="FLUFFYMAIL_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("FLUFFYMAIL_DATABASE_URL", "DATABASE_URL"),
        description="PostgreSQL URL; when unset an embedded PostgreSQL (pgserver) is started.",
    )
    database_pooler: str = Field(
        default="none",
        pattern="^(none|transaction)$",
        description=(
            "'transaction': DATABASE_URL is a PgBouncer (or similar) in transaction mode, so "
            "nothing is prepared and no session state (LISTEN, session advisory locks) is kept "
            "on it; see SCALING.md."
        ),
    )
    database_direct_url: str | None = Field(
        default=None,
        description=(
            "With a transaction pooler: a URL straight to PostgreSQL for the worker's LISTEN "
            "wake-ups and liveness lock and for migrations; unset, the worker polls."
        ),
    )
    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("fluffymail")),
        description="Where the embedded PostgreSQL and uploads live.",
    )
    queues: str = Field(
        default=(
            "sync-emails:2,extract-contacts:5,index-messages:2,enrich-contact:3,"
            "analyze-relationships:2,"
            "summarize-relationship:2,delete-connection:1,apply-contact-policy:1,"
            "followup-reminder:2,recompute-followups:1,sync-calendar:1"
        ),
        description="Per-queue worker concurrency, NAME:N comma-separated.",
    )
    enrich_debounce: int = Field(
        default=60,
        ge=1,  # it is the enrich-contact job's singleton_seconds, which must be at least 1
        description="Seconds a contact's mail is batched before enrich-contact runs.",
    )
    analyze_debounce: int = Field(
        default=30,
        ge=0,
        description="Seconds new mail is batched before analyze-relationships runs for its user.",
    )
    migrate_on_start: bool = Field(
        default=True, description="Apply migrations when a worker or the web app starts."
    )
    pool_min_size: int = Field(default=2, ge=0, description="Database connections kept open.")
    pool_max_size: int = Field(default=10, ge=1, description="Most database connections open.")
    poll_interval: float = Field(
        default=1.0, gt=0, description="Seconds between polls when no NOTIFY arrives."
    )
    rescue_interval: float = Field(
        default=2.5,
        gt=0,
        description="Seconds between checks for jobs of dead workers (each also renews the "
        "worker's liveness row).",
    )
    leader_ttl: float = Field(
        default=10.0, gt=0, description="Seconds before a dead leader's lease can be taken over."
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Serve Prometheus metrics and /healthz from the worker on this port.",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description=(
            "Address the worker's metrics port binds; 0.0.0.0 only where a platform probes or "
            "scrapes the worker over the network."
        ),
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description=(
            "Bearer token for /metrics: the web app serves /metrics only when it is set; the "
            "worker's metrics port asks for it when set."
        ),
    )
    allowed_hosts: str | None = Field(
        default=None,
        description=(
            "Host names the web app answers (comma-separated, `*.example.com` allowed); "
            "required outside development, where unset means any."
        ),
    )
    sentry_dsn: str | None = Field(
        default=None, description="Report failed jobs to Sentry (needs the `sentry` extra)."
    )
    environment: str = Field(
        default="development",
        description=(
            "Deployment name reported to Sentry. Anything but 'development' puts the API docs "
            "behind login and requires FLUFFYMAIL_ALLOWED_HOSTS; 'production' also requires "
            "FLUFFYMAIL_SECRET_KEY and marks every cookie Secure."
        ),
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description=(
            "Proxies whose X-Forwarded-* headers the web app trusts (comma-separated addresses "
            "or networks, or * when only the platform's proxy can reach the app)."
        ),
    )
    shutdown_grace: float = Field(
        default=20.0, ge=0, description="Seconds in-flight jobs get to finish on SIGTERM."
    )
    shutdown_timeout: float = Field(
        default=5.0,
        gt=0,
        description=(
            "Seconds past the grace after which a stopping worker exits anyway (exit code 3), "
            "abandoning handlers that ignore cancellation and work an unreachable database "
            "did not take; their jobs are rescued once their heartbeat lapses."
        ),
    )
    drain_seconds: float = Field(
        default=50.0,
        gt=0,
        description=(
            "Time budget of a drain run (`fluffymail worker --drain`, `fluffymail serverless "
            "...`), its stop included; keep it under the trigger interval."
        ),
    )
    drain_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Shared secret for `fluffymail serverless http`: POST /drain needs "
            "`Authorization: Bearer <secret>`; the server will not start without one."
        ),
    )
    db_stall_seconds: float = Field(
        default=6.0,
        gt=0,
        description=(
            "Seconds without an answer from the database after which the worker drops its "
            "connections and reconnects."
        ),
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Fernet key (urlsafe base64 of 32 bytes) encrypting mail credentials at rest; "
            "required in production; elsewhere, unset: a development key is created in "
            "DATA_DIR/secret.key, with a warning."
        ),
    )
    old_secret_keys: SecretStr | None = Field(
        default=None,
        description=(
            "Earlier secret keys, comma-separated: they still decrypt, nothing new is encrypted "
            "with them. Drop them once `fluffymail secrets rotate` has re-encrypted everything."
        ),
    )
    ai_provider: str = Field(
        default="offline",
        pattern="^(offline|openai)$",
        description=(
            "Relationship summaries: 'offline' (extractive, no network, labelled not AI) or "
            "'openai' (any OpenAI-compatible chat-completions server)."
        ),
    )
    external_ai: bool = Field(
        default=True,
        description="Off: nothing is ever sent to an external model (offline summaries only).",
    )
    openai_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("FLUFFYMAIL_OPENAI_API_KEY", "OPENAI_API_KEY"),
        description="API key of the OpenAI-compatible server (optional for local servers).",
    )
    openai_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("FLUFFYMAIL_OPENAI_BASE_URL", "OPENAI_BASE_URL"),
        description="Base URL, e.g. http://localhost:11434/v1 for Ollama; unset: OpenAI.",
    )
    openai_model: str = Field(default="gpt-4o-mini", description="Chat model for summaries.")
    ai_timeout: float = Field(default=60.0, gt=0, description="Seconds per AI request.")
    ai_daily_token_budget: int = Field(
        default=200_000, ge=0, description="Tokens per user per UTC day sent to the AI provider."
    )
    summary_top: int = Field(
        default=50,
        ge=0,
        description="Summaries are written ahead for this many strongest relationships per user;"
        " any other contact's summary is written when its page is opened.",
    )
    ai_input_token_budget: int = Field(
        default=6000, ge=200, description="Tokens of mail in one summary's prompt."
    )
    gmail_client_id: str | None = Field(
        default=None, description="OAuth client id of the Google Cloud app that reads Gmail."
    )
    gmail_client_secret: SecretStr | None = Field(
        default=None, description="That OAuth client's secret."
    )
    gmail_auth_uri: str = Field(
        default="https://accounts.google.com/o/oauth2/auth",
        description="Google's OAuth authorisation endpoint (tests point it at an emulator).",
    )
    gmail_token_uri: str = Field(
        default="https://oauth2.googleapis.com/token",
        description="Google's OAuth token endpoint: code exchange and access-token refresh.",
    )
    gmail_api_endpoint: str = Field(
        default="https://gmail.googleapis.com/", description="The Gmail API's base URL."
    )
    calendar_api_endpoint: str = Field(
        default="https://www.googleapis.com/calendar/v3/",
        description="The Google Calendar API's base URL (read with the Gmail connection's grant).",
    )
    gmail_redirect_uri: str | None = Field(
        default=None,
        description=(
            "The OAuth callback registered with Google; unset: this server's "
            "/api/connections/gmail/callback as the request reached it."
        ),
    )
    upload_max_bytes: int = Field(
        default=2 * 1024**3,
        gt=0,
        description="Largest mbox/Maildir archive the web app accepts (bytes, also unpacked).",
    )
    upload_max_unpacked_bytes: int = Field(
        default=20 * 1024**3, gt=0, description="Largest size an uploaded archive may unpack to."
    )
    upload_max_members: int = Field(
        default=100_000, ge=1, description="Most files and folders one uploaded archive may hold."
    )
    uploads_per_user: int = Field(
        default=2, ge=1, description="Uploads one user may have in progress at once."
    )
    upload_quota_bytes: int = Field(
        default=50 * 1024**3,
        gt=0,
        description="Disk space one user's uploaded mail may take in DATA_DIR/uploads.",
    )
    outbound_allow: str = Field(
        default="",
        description=(
            "Addresses, networks and host names on private networks (loopback, LAN) that "
            "user-given servers may be, comma-separated, e.g. 10.0.0.0/8,mail.lan; "
            "unset: only public addresses are reached."
        ),
    )
    outbound_ports: str = Field(
        default="",
        description=(
            "Ports user-given servers may use besides the standard ones (IMAP: 993, 143), "
            "comma-separated."
        ),
    )
    connection_test_workers: int = Field(
        default=8, ge=1, description="Threads the web app tests new mail connections on."
    )
    connection_tests_per_user: int = Field(
        default=2, ge=1, description="Connection tests one user may run at once."
    )
    log_level: str = "INFO"
    log_format: str = Field(default="console", pattern="^(console|json)$")

    @field_validator("queues")
    @classmethod
    def _check_queues(cls, value: str) -> str:
        parse_queue_concurrency(value)
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _check_allowed_hosts(cls, value: str | None) -> str | None:
        for host in filter(None, (part.strip() for part in (value or "").split(","))):
            if "*" in host.removeprefix("*.") and host != "*":
                raise ValueError(
                    f"bad allowed host {host!r}: a wildcard only as '*' or a '*.' prefix"
                )
        return value

    @field_validator("outbound_allow")
    @classmethod
    def _check_outbound_allow(cls, value: str) -> str:
        parse_outbound_allow(value)
        return value

    @field_validator("outbound_ports")
    @classmethod
    def _check_outbound_ports(cls, value: str) -> str:
        parse_ports(value)
        return value

    @model_validator(mode="after")
    def _check_pool_sizes(self) -> Self:
        if self.pool_max_size < self.pool_min_size:
            raise ValueError(
                "FLUFFYMAIL_POOL_MAX_SIZE must be at least FLUFFYMAIL_POOL_MIN_SIZE "
                f"({self.pool_max_size} < {self.pool_min_size})"
            )
        return self

    @field_validator("secret_key")
    @classmethod
    def _check_secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _check_fernet_key(value.get_secret_value(), "FLUFFYMAIL_SECRET_KEY")
        return value

    @field_validator("old_secret_keys")
    @classmethod
    def _check_old_secret_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            for key in split_keys(value.get_secret_value()):
                _check_fernet_key(key, "each of FLUFFYMAIL_OLD_SECRET_KEYS")
        return value

    @property
    def queue_concurrency(self) -> dict[str, int]:
        return parse_queue_concurrency(self.queues)

    @property
    def is_development(self) -> bool:
        return self.environment.strip().lower() == "development"

    @property
    def allowed_host_list(self) -> list[str]:
        return [
            host.strip().lower() for host in (self.allowed_hosts or "").split(",") if host.strip()
        ]

    @property
    def is_production(self) -> bool:
        """`FLUFFYMAIL_ENVIRONMENT=production`: a secret key is required, cookies are Secure."""
        return self.environment.strip().lower() == "production"

    @property
    def outbound_port_numbers(self) -> frozenset[int]:
        return parse_ports(self.outbound_ports)


def split_keys(spec: str) -> list[str]:
    """`"k1, k2,"` -> `["k1", "k2"]`: the comma-separated keys of FLUFFYMAIL_OLD_SECRET_KEYS."""
    return [key for key in (part.strip() for part in spec.split(",")) if key]


def _check_fernet_key(key: str, name: str) -> None:
    try:
        raw = base64.urlsafe_b64decode(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raw = b""
    if len(raw) != 32:
        raise ValueError(
            f"{name} must be a Fernet key (urlsafe base64 of 32 bytes); "
            "make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        )
