"""Mail archive uploads: a multipart body streamed straight to the data directory under a size
limit, then recognised as an mbox file or unpacked (zip/tar of a Maildir or of mbox files).

Nothing is spooled in memory or in a temporary file first: each chunk of the request goes to
its final place on disk, and the upload stops with 413 the moment it passes the limit. An
archive's member count and unpacked size are checked from its directory (zip) or headers
(tar) before anything is unpacked, and it is refused if a member would land outside its
directory or is a link or a device. Each user has a few uploads in progress at most and a
storage quota; every refusal names the limit and its value.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tarfile
import uuid
import zipfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from psycopg_pool import AsyncConnectionPool
from python_multipart.multipart import MultipartParser, parse_options_header

from fluffymail.config import Settings
from fluffymail.crm.mail.models import ConnectionKind
from fluffymail.integrations.mail import file_source
from fluffymail.integrations.mail.files import MailSourceError, discover_sources
from fluffymail.queue import JobQueue
from fluffymail.web.services import limits
from fluffymail.web.services.connections import ConnectionProblem, Created, save_connection

__all__ = [
    "Archive",
    "Received",
    "UploadLimits",
    "discard",
    "discard_replaced",
    "import_upload",
    "prepare_archive",
    "receive_upload",
    "size_text",
    "upload_dir",
]

UPLOADS = "uploads"  # under the data directory; the delete-connection job removes its folders
FILE_FIELD = "file"
MAX_FIELD_BYTES = 4096
MAX_ENTRY_BYTES = 1024  # zip directory bytes one member may need (a long name and extras)
OVERHEAD = 64 * 1024  # multipart framing and small fields on top of the file
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass(slots=True, kw_only=True)
class Received:
    """What the request carried: the file written to `path`, and the small text fields."""

    path: Path | None = None
    filename: str = ""
    size: int = 0
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Archive:
    """An upload ready to import: what to read (`source`), as which kind, and its name."""

    source: Path
    kind: ConnectionKind
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadLimits:
    """What one upload may be: the file as sent, its unpacked size and member count, and
    the room left in the user's storage quota (`used` of `quota`)."""

    file_bytes: int
    unpacked_bytes: int
    members: int
    quota: int
    used: int = 0

    @classmethod
    def of(cls, settings: Settings, used: int) -> UploadLimits:
        return cls(
            file_bytes=settings.upload_max_bytes,
            unpacked_bytes=settings.upload_max_unpacked_bytes,
            members=settings.upload_max_members,
            quota=settings.upload_quota_bytes,
            used=used,
        )

    @property
    def room(self) -> int:
        return max(self.quota - self.used, 0)

    def check_file(self, size: int) -> None:
        if size > self.file_bytes:
            raise ConnectionProblem(
                413, "too_large",
                f"the upload is larger than {size_text(self.file_bytes)}, the limit for one file",
            )  # fmt: skip
        self._check_room(size)

    def check_unpacked(self, size: int) -> None:
        if size > self.unpacked_bytes:
            raise ConnectionProblem(
                413, "unpacks_too_large",
                f"the archive unpacks to more than {size_text(self.unpacked_bytes)}, "
                "the limit for one archive",
            )  # fmt: skip
        self._check_room(size)

    def check_members(self, count: int) -> None:
        if count > self.members:
            raise ConnectionProblem(
                413, "too_many_files",
                f"the archive holds more than {self.members:,} files and folders, "
                "the limit for one archive",
            )  # fmt: skip

    def _check_room(self, size: int) -> None:
        if size > self.room:
            raise ConnectionProblem(
                413, "quota_exceeded",
                f"this upload does not fit in your storage quota of {size_text(self.quota)} "
                f"({size_text(self.used)} used); delete an uploaded connection to make room",
            )  # fmt: skip


async def import_upload(
    chunks: AsyncIterator[bytes],
    headers: Mapping[str, str],
    *,
    pool: AsyncConnectionPool,
    queue: JobQueue,
    settings: Settings,
    user_id: int,
    in_flight: limits.UserSlots,
) -> Created:
    """Stream an uploaded archive to the data directory, recognise it, and create its
    connection with the first sync (the sync-emails job imports it). Anything written is
    removed again when the upload is refused.

    Raises:
        ConnectionProblem: 429 too_many_uploads when the user has `in_flight.limit` uploads
            in progress; 413 over a size, member or quota limit; 4xx for a bad upload.
    """

    def busy() -> ConnectionProblem:
        return ConnectionProblem(
            429, "too_many_uploads",
            f"you already have {in_flight.limit} uploads in progress, the most at once; "
            "wait for one to finish",
        )  # fmt: skip

    with in_flight.hold(user_id, busy):
        mine = Path(settings.data_dir) / UPLOADS / str(user_id)
        bounds = UploadLimits.of(settings, await asyncio.to_thread(disk_usage, mine))
        length = headers.get("content-length", "")
        if length.isdigit():
            bounds.check_file(max(int(length) - OVERHEAD, 0))
        target = upload_dir(settings.data_dir, user_id)
        try:
            received = await receive_upload(chunks, headers.get("content-type", ""), target, bounds)
            archive = await asyncio.to_thread(prepare_archive, received, bounds)
            name = received.fields.get("display_name", "").strip()[:200] or archive.name
            created = await save_connection(
                pool, queue, user_id, kind=archive.kind, source=str(archive.source),
                display_name=name, credentials=None, same_file=file_source.same_mbox,
            )  # fmt: skip
        except BaseException:
            discard(target)
            raise
        if created.moved_from:  # the same mbox file again: its connection reads this copy
            await asyncio.to_thread(
                discard_replaced, settings.data_dir, user_id, created.moved_from
            )
        return created


def disk_usage(directory: Path) -> int:
    """Bytes of the files under `directory` (0 when it does not exist)."""
    total = 0
    for root, _, files in os.walk(directory):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except FileNotFoundError:  # removed while we walked (a connection being deleted)
                continue
    return total


def upload_dir(data_dir: Path, user_id: int) -> Path:
    """A new, empty directory for one upload of this user."""
    target = Path(data_dir) / UPLOADS / str(user_id) / uuid.uuid4().hex
    target.mkdir(parents=True)
    return target


def safe_name(filename: str) -> str:
    """The last path segment with anything odd replaced (never empty, never a dot file)."""
    leaf = filename.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE_NAME.sub("_", leaf).strip(" .")[:120]
    return cleaned or "upload"


class _Parts:
    """Callbacks of the streaming multipart parser: the file part goes to disk, others to
    memory (bounded), everything counted against the limit."""

    def __init__(self, target: Path, bounds: UploadLimits) -> None:
        self.target = target
        self.bounds = bounds
        self.result = Received()
        self._field = b""
        self._value = b""
        self._headers: dict[bytes, bytes] = {}
        self._name = ""
        self._is_file = False
        self._buffer = bytearray()
        self._handle: IO[bytes] | None = None

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda d, s, e: self._append("_field", d[s:e]),
            "on_header_value": lambda d, s, e: self._append("_value", d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_done,
            "on_part_data": self._data,
            "on_part_end": self._end,
        }

    def _append(self, attr: str, data: bytes) -> None:
        value = getattr(self, attr) + data
        if len(value) > MAX_FIELD_BYTES:
            raise ConnectionProblem(400, "bad_upload", "a multipart header is too long")
        setattr(self, attr, value)

    def _begin(self) -> None:
        self._headers, self._name, self._is_file, self._buffer = {}, "", False, bytearray()

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def _headers_done(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options:
            if self._name != FILE_FIELD or self.result.path is not None:
                raise ConnectionProblem(
                    400, "bad_upload", f"send exactly one file, in the form field {FILE_FIELD!r}"
                )
            self._is_file = True
            self.result.filename = options[b"filename"].decode("utf-8", "replace")
            self.result.path = self.target / safe_name(self.result.filename)
            self._handle = self.result.path.open("xb")

    def _data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._is_file:
            self.result.size += len(chunk)
            self.bounds.check_file(self.result.size)
            assert self._handle is not None
            self._handle.write(chunk)
            return
        self._buffer += chunk
        if len(self._buffer) > MAX_FIELD_BYTES:
            raise ConnectionProblem(400, "bad_upload", f"form field {self._name!r} is too long")

    def _end(self) -> None:
        if self._is_file:
            self.close()
        elif self._name:
            self.result.fields[self._name] = self._buffer.decode("utf-8", "replace")

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


async def receive_upload(
    chunks: AsyncIterator[bytes], content_type: str, target: Path, bounds: UploadLimits
) -> Received:
    """Stream a multipart/form-data body into `target` (its `file` field) within `bounds`.

    Raises:
        ConnectionProblem: not multipart (415), over the limit (413), no file or a malformed
            body (400). Whatever was written stays in `target` for the caller to remove.
    """
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise ConnectionProblem(
            415, "unsupported_media_type", "send the archive as multipart/form-data"
        )
    parts = _Parts(target, bounds)
    parser = MultipartParser(boundary, parts.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in chunks:
            parser.write(chunk)
        parser.finalize()
    except ConnectionProblem:
        raise
    except Exception as exc:  # the parser's own errors: a broken body
        raise ConnectionProblem(400, "bad_upload", f"malformed multipart body: {exc}") from exc
    finally:
        parts.close()
    if parts.result.path is None:
        raise ConnectionProblem(400, "bad_upload", f"no file in the form field {FILE_FIELD!r}")
    if parts.result.size == 0:
        raise ConnectionProblem(400, "empty_upload", "the uploaded file is empty")
    return parts.result


def prepare_archive(received: Received, bounds: UploadLimits) -> Archive:
    """Recognise the upload: an mbox file is kept as it is; a zip or tar is unpacked next to
    it (then deleted) and must hold a Maildir or mbox files. Blocking: run it in a thread.

    Raises:
        ConnectionProblem: 415 not_a_mailbox, or 400/413 for an unsafe or too large archive.
    """
    path = received.path
    assert path is not None
    name = safe_name(received.filename)
    if zipfile.is_zipfile(path) or _is_tar(path):
        unpacked = path.parent / "mail"
        unpacked.mkdir()
        try:
            _unpack(path, unpacked, bounds)
        finally:
            path.unlink(missing_ok=True)
        return Archive(source=unpacked, kind=_kind_of(unpacked, name), name=name)
    if not _starts_like_mbox(path):
        raise ConnectionProblem(
            415, "not_a_mailbox",
            f"{name} is not an mbox file (its first line must start with \"From \") "
            "nor a zip or tar archive of a Maildir",
        )  # fmt: skip
    return Archive(source=path, kind=ConnectionKind.MBOX, name=name)


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def _starts_like_mbox(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(4096)
    return head.lstrip(b"\r\n").startswith(b"From ")


def _kind_of(root: Path, name: str) -> ConnectionKind:
    try:
        sources = discover_sources(root)
    except MailSourceError as exc:
        raise ConnectionProblem(
            415, "not_a_mailbox", f"{name} holds no Maildir and no mbox file"
        ) from exc
    if any(source.kind == "maildir" for source in sources):
        return ConnectionKind.MAILDIR
    return ConnectionKind.MBOX


def _unpack(archive: Path, target: Path, bounds: UploadLimits) -> None:
    if zipfile.is_zipfile(archive):
        _unzip(archive, target, bounds)
    else:
        _untar(archive, target, bounds)


def _unzip(archive: Path, target: Path, bounds: UploadLimits) -> None:
    _check_zip_directory(archive, bounds)
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        bounds.check_members(len(members))
        bounds.check_unpacked(sum(m.file_size for m in members))
        root = target.resolve()
        for member in members:
            destination = (target / member.filename).resolve()
            if (
                not destination.is_relative_to(root)
                or (member.external_attr >> 16) & 0o170000 == 0o120000
            ):
                raise ConnectionProblem(
                    400, "unsafe_archive", f"unsafe archive member {member.filename!r}"
                )
        written = 0
        for member in members:
            if member.is_dir():
                continue
            destination = target / member.filename
            destination.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(member) as source, destination.open("wb") as out:
                while chunk := source.read(1 << 20):
                    written += len(chunk)
                    bounds.check_unpacked(written)  # sizes in the directory can lie
                    out.write(chunk)


def _check_zip_directory(archive: Path, bounds: UploadLimits) -> None:
    """Refuse too many members from the zip's end record, before `zipfile` reads the whole
    directory into memory (millions of empty files fit in a small upload)."""
    with archive.open("rb") as handle:
        end = zipfile._EndRecData(handle)  # type: ignore[attr-defined]  # the stdlib's reader
    if end is None:
        raise ConnectionProblem(400, "bad_archive", "the zip archive is damaged")
    bounds.check_members(end[zipfile._ECD_ENTRIES_TOTAL])  # type: ignore[attr-defined]
    if end[zipfile._ECD_SIZE] > bounds.members * MAX_ENTRY_BYTES:  # type: ignore[attr-defined]
        raise ConnectionProblem(  # its count understates it: a damaged or crafted archive
            413, "too_many_files",
            f"the archive's list of files is too long for {bounds.members:,} files, "
            "the limit for one archive",
        )  # fmt: skip


def _untar(archive: Path, target: Path, bounds: UploadLimits) -> None:
    """Read the headers one by one, refusing at the first member over a limit, then unpack."""
    try:
        with tarfile.open(archive, "r:*") as tf:
            members: list[tarfile.TarInfo] = []
            size = 0
            for member in tf:
                members.append(member)
                bounds.check_members(len(members))
                if not (member.isfile() or member.isdir()):
                    raise ConnectionProblem(
                        400, "unsafe_archive", f"unsafe archive member {member.name!r}"
                    )
                size += member.size if member.isfile() else 0
                bounds.check_unpacked(size)
            tf.extractall(target, members=members, filter="data")
    except tarfile.FilterError as exc:
        raise ConnectionProblem(400, "unsafe_archive", f"unsafe archive member: {exc}") from exc
    except (tarfile.TarError, EOFError) as exc:
        raise ConnectionProblem(400, "bad_archive", f"the tar archive is damaged: {exc}") from exc


def discard(directory: Path) -> None:
    """Remove an upload directory that will not become a connection."""
    shutil.rmtree(directory, ignore_errors=True)


def discard_replaced(data_dir: Path, user_id: int, source: str) -> None:
    """Remove the user's upload that held `source`, a connection's file before the same file
    came again (uploaded again, or imported from elsewhere): the connection reads the new one
    now, and the old copy would only fill the quota. A file outside the user's uploads is
    never touched."""
    mine = (Path(data_dir) / UPLOADS / str(user_id)).resolve()
    try:
        relative = Path(source).resolve().relative_to(mine)
    except ValueError:
        return
    if len(relative.parts) >= 2:  # <upload dir>/<file or unpacked folder>
        discard(mine / relative.parts[0])


def size_text(limit: int) -> str:
    """A byte count for people: "2 GB", "1.5 GB", "256 KB"."""
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if limit >= size:
            return f"{limit / size:,.{0 if limit % size == 0 else 1}f} {unit}"
    return f"{limit:,} bytes"
