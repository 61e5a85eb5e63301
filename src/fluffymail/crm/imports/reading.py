"""An uploaded file read into raw records: its text (UTF-8 or UTF-16 by its byte-order mark,
or an encoding the user names), then CSV rows mapped by their header or vCards (3.0 and 4.0,
with `vobject`). Pure; `Unreadable` says in plain words why a file cannot be read at all.

Row numbers are those a spreadsheet shows (the header is row 1); vCards count from 1.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

import vobject

from fluffymail.crm.imports.columns import Column, Kind, map_header
from fluffymail.crm.imports.records import Values

ENCODINGS = ("utf-8", "utf-16", "windows-1252", "latin-1", "mac-roman")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))  # fmt: skip
_FORMULA_STARTS = ("=", "+", "-", "@")
VCARD_COLUMNS = ("EMAIL", "FN", "N", "ORG", "TITLE", "TEL", "CATEGORIES", "NOTE")


class Unreadable(Exception):
    """The file is no CSV (or vCard) FluffyMail can read; `code` names the kind of problem."""

    def __init__(self, code: str, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.code, self.reason, self.status = code, reason, status


@dataclass(frozen=True, slots=True, kw_only=True)
class Read:
    """The file's columns (how each header was mapped) and its records, in order."""

    columns: tuple[Column, ...]
    records: list[tuple[int, Values]]


def decode(data: bytes, encoding: str | None = None) -> str:
    """The file's text. Without `encoding`, a byte-order mark decides, else it must be UTF-8."""
    utf16 = encoding == "utf-16" or data.startswith(tuple(b for b, _ in _BOMS[1:]))
    if b"\x00" in data[:4096] and not utf16:
        raise Unreadable("not_text", "the file is not text (it holds NUL bytes)", 415)
    name = encoding
    if name is None:
        name = next((enc for bom, enc in _BOMS if data.startswith(bom)), "utf-8")
    elif name == "utf-8":
        name = "utf-8-sig"
    try:
        return data.decode(name)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise Unreadable(
            "wrong_encoding",
            f"the file is not {encoding or 'UTF-8'} text (byte 0x{data[exc.start]:02x} on "
            f"line {line}); save it as “CSV UTF-8”, or choose its encoding "
            f"({', '.join(ENCODINGS)})",
        ) from None


def is_vcard(text: str) -> bool:
    return text.lstrip("\ufeff \r\n\t")[:11].upper() == "BEGIN:VCARD"


def read_csv(text: str, kind: Kind, max_rows: int) -> Read:
    """Rows mapped by the header; `Unreadable` without a header or a key column."""
    sample = text[:65536]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, ",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise Unreadable(
                "empty_file", "the file is empty: its first line must name the columns"
            )
        columns = map_header(header, kind)
        _check_key(columns, kind)
        records = list(_records(reader, columns, max_rows))
    except csv.Error as exc:
        raise Unreadable(
            "not_csv", f"the file is not CSV: {exc} (line {reader.line_num})"
        ) from None
    return Read(columns=tuple(columns), records=records)


def _check_key(columns: list[Column], kind: Kind) -> None:
    fields = {c.field for c in columns}
    found = ", ".join(f"“{c.header}”" for c in columns[:20] if c.header) or "none"
    if kind == "contacts" and "email" not in fields:
        raise Unreadable(
            "no_email_column",
            f"no column holds email addresses (as “Email” or “E-mail Address”); the columns "
            f"are {found}",
        )
    if kind == "companies" and not fields & {"company_domain", "website"}:
        raise Unreadable(
            "no_domain_column",
            f"no column holds the companies' domains (as “Domain” or “Website”); the columns "
            f"are {found}",
        )


def _records(reader: Iterator[list[str]], columns: list[Column], max_rows: int):
    used = [c for c in columns if c.field is not None]
    for count, cells in enumerate(reader, start=1):
        if count > max_rows:
            raise Unreadable(
                "too_many_rows", f"the file has more than {max_rows:,} rows, the most at once", 413
            )
        if not any(cell.strip() for cell in cells):
            continue
        values: dict[str, list[str]] = {}
        for column in used:
            if column.index < len(cells) and (cell := cells[column.index].strip()):
                values.setdefault(column.field or "", []).append(_unescaped(cell))
        yield count + 1, values


def _unescaped(cell: str) -> str:
    """A cell as written before an export guarded it against spreadsheet formulas ('=1)."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in _FORMULA_STARTS else cell


def read_vcards(text: str, max_rows: int) -> Read:
    """Each vCard's values by field; `Unreadable` when the file does not parse."""
    records: list[tuple[int, Values]] = []
    try:
        for number, card in enumerate(vobject.readComponents(text, ignoreUnreadable=True), 1):
            if number > max_rows:
                raise Unreadable(
                    "too_many_rows", f"the file has more than {max_rows:,} cards, the most", 413
                )
            if card.name.upper() == "VCARD":
                records.append((number, _card_values(card)))
    except (vobject.base.ParseError, ValueError, AttributeError) as exc:
        raise Unreadable("not_vcard", f"the vCard file does not parse: {exc}") from None
    columns = tuple(
        Column(index=i, header=name, field=field)
        for i, (name, field) in enumerate(zip(VCARD_COLUMNS, _VCARD_FIELDS, strict=True))
    )
    return Read(columns=columns, records=records)


_VCARD_FIELDS = ("email", "name", "name", "company", "title", "phone", "tags", "notes")


def _card_values(card: vobject.base.Component) -> dict[str, list[str]]:
    contents = card.contents
    values: dict[str, list[str]] = {
        "email": [str(p.value) for p in contents.get("email", [])],
        "phone": [str(p.value) for p in contents.get("tel", [])],
        "title": [str(p.value) for p in contents.get("title", [])],
        "notes": [str(p.value) for p in contents.get("note", [])],
        "tags": [t for p in contents.get("categories", []) for t in _listed(p.value)],
    }
    if fn := contents.get("fn"):
        values["name"] = [str(fn[0].value)]
    elif n := contents.get("n"):
        name = n[0].value
        values["first_name"] = [str(getattr(name, "given", "") or "")]
        values["last_name"] = [str(getattr(name, "family", "") or "")]
    if org := contents.get("org"):
        values["company"] = [str(_listed(org[0].value)[0]) if _listed(org[0].value) else ""]
    return {k: [str(x) for x in v if str(x).strip()] for k, v in values.items() if v}


def _listed(value: object) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)] if value else []
