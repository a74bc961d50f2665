"""The Zengin bulk transfer file (総合振込) that pays investors, and bank business days.

Pure: builds and reads the bytes a partner bank takes; sending them is someone else's job.
Bank and branch codes are checked against the Zengin code list (``zengin-code``) so a
typo is refused here, not days later by the bank.

The file is one header, one data record per transfer, a trailer and an end record.
Every record is 120 single-byte Shift_JIS characters (half-width kana, upper-case
Latin, digits, space and ``( ) . - / ,``); records are joined by CRLF and the file
ends with one. Numeric fields (N) are right-aligned and zero-padded, text fields (C)
left-aligned and space-padded.

Header record (ヘッダー・レコード)::

    | # | field                       | width | kind | value                            |
    |---|-----------------------------|-------|------|----------------------------------|
    | 1 | データ区分 record kind       |     1 | N    | 1                                |
    | 2 | 種別コード type code         |     2 | N    | 21 (総合振込)                     |
    | 3 | コード区分 code division     |     1 | N    | 0 (JIS / Shift_JIS)              |
    | 4 | 依頼人コード remitter code   |    10 | N    | given by the bank                |
    | 5 | 依頼人名 remitter name       |    40 | C    | Zengin kana                      |
    | 6 | 取組日 transfer date         |     4 | N    | MMDD, a bank business day        |
    | 7 | 仕向銀行番号 bank code       |     4 | N    | the remitter's bank              |
    | 8 | 仕向銀行名 bank name         |    15 | C    | from zengin-code, cut to 15      |
    | 9 | 仕向支店番号 branch code     |     3 | N    |                                  |
    |10 | 仕向支店名 branch name       |    15 | C    | from zengin-code, cut to 15      |
    |11 | 預金種目 account type        |     1 | N    | 1 ordinary, 2 current            |
    |12 | 口座番号 account number      |     7 | N    |                                  |
    |13 | ダミー filler                |    17 | C    | spaces                           |
    |   | total                       |   120 |      |                                  |

Data record (データ・レコード), one per transfer::

    | # | field                       | width | kind | value                            |
    |---|-----------------------------|-------|------|----------------------------------|
    | 1 | データ区分 record kind       |     1 | N    | 2                                |
    | 2 | 被仕向銀行番号 bank code     |     4 | N    | the payee's bank                 |
    | 3 | 被仕向銀行名 bank name       |    15 | C    | from zengin-code, cut to 15      |
    | 4 | 被仕向支店番号 branch code   |     3 | N    |                                  |
    | 5 | 被仕向支店名 branch name     |    15 | C    | from zengin-code, cut to 15      |
    | 6 | 手形交換所番号 clearing house |     4 | N    | 0000 (not used)                  |
    | 7 | 預金種目 account type        |     1 | N    | 1 ordinary, 2 current, 4 savings |
    | 8 | 口座番号 account number      |     7 | N    |                                  |
    | 9 | 受取人名 payee name          |    30 | C    | Zengin kana                      |
    |10 | 振込金額 amount              |    10 | N    | yen, 1 .. 9,999,999,999          |
    |11 | 新規コード new code          |     1 | N    | 0 (other)                        |
    |12 | 顧客コード1 customer code 1  |    10 | C    | first 10 of customer_code        |
    |13 | 顧客コード2 customer code 2  |    10 | C    | next 10 of customer_code         |
    |14 | 振込指定区分 transfer mode   |     1 | N    | 7 (by wire)                      |
    |15 | 識別表示 EDI flag            |     1 | C    | space (customer codes, not EDI)  |
    |16 | ダミー filler                |     7 | C    | spaces                           |
    |   | total                       |   120 |      |                                  |

Trailer record (トレーラ・レコード)::

    | # | field                       | width | kind | value                            |
    |---|-----------------------------|-------|------|----------------------------------|
    | 1 | データ区分 record kind       |     1 | N    | 8                                |
    | 2 | 合計件数 count               |     6 | N    | number of data records           |
    | 3 | 合計金額 total               |    12 | N    | sum of the amounts, yen          |
    | 4 | ダミー filler                |   101 | C    | spaces                           |
    |   | total                       |   120 |      |                                  |

End record (エンド・レコード)::

    | # | field                       | width | kind | value                            |
    |---|-----------------------------|-------|------|----------------------------------|
    | 1 | データ区分 record kind       |     1 | N    | 9                                |
    | 2 | ダミー filler                |   119 | C    | spaces                           |
    |   | total                       |   120 |      |                                  |

The customer code is the platform's own reference, left-aligned over the two
customer-code fields (10 + 10) so it reads back exactly; banks pass it through.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

import jpholiday
from zengin_code import Bank

from kumiai.periods import japan_date

AccountType = Literal["ordinary", "current", "savings"]

ACCOUNT_TYPE_CODES: dict[AccountType, str] = {"ordinary": "1", "current": "2", "savings": "4"}
_ACCOUNT_TYPES_BY_CODE: dict[str, AccountType] = {v: k for k, v in ACCOUNT_TYPE_CODES.items()}

RECORD_BYTES = 120
MIN_AMOUNT = 1
MAX_AMOUNT = 9_999_999_999  # the 10-digit amount field
MAX_COUNT = 999_999  # the 6-digit count of the trailer
MAX_TOTAL = 999_999_999_999  # the 12-digit total of the trailer
ENCODING = "cp932"
NEWLINE = b"\r\n"

TYPE_CODE = "21"  # 総合振込
CODE_DIVISION = "0"  # JIS (Shift_JIS on a PC file)
CLEARING_HOUSE = "0000"  # no longer used by the clearing; zeros
NEW_CODE = "0"  # "other": neither a first transfer nor a changed account
TRANSFER_MODE = "7"  # by wire (テレ振込)
NOT_EDI = " "  # customer codes, not EDI information

HEADER: tuple[tuple[str, int], ...] = (
    ("kind", 1),
    ("type_code", 2),
    ("code_division", 1),
    ("remitter_code", 10),
    ("remitter_name", 40),
    ("transfer_date", 4),
    ("bank_code", 4),
    ("bank_name", 15),
    ("branch_code", 3),
    ("branch_name", 15),
    ("account_type", 1),
    ("account_number", 7),
    ("filler", 17),
)
DATA: tuple[tuple[str, int], ...] = (
    ("kind", 1),
    ("bank_code", 4),
    ("bank_name", 15),
    ("branch_code", 3),
    ("branch_name", 15),
    ("clearing_house", 4),
    ("account_type", 1),
    ("account_number", 7),
    ("holder", 30),
    ("amount", 10),
    ("new_code", 1),
    ("customer_code_1", 10),
    ("customer_code_2", 10),
    ("transfer_mode", 1),
    ("edi_flag", 1),
    ("filler", 7),
)
TRAILER: tuple[tuple[str, int], ...] = (("kind", 1), ("count", 6), ("total", 12), ("filler", 101))
END: tuple[tuple[str, int], ...] = (("kind", 1), ("filler", 119))

NAME_WIDTH = 15  # bank and branch names
REMITTER_NAME_WIDTH = 40
HOLDER_WIDTH = 30
CUSTOMER_CODE_WIDTH = 20


class NotTransferable(ValueError):
    """A transfer the bank would refuse; ``field`` says which value and ``reason`` why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class UnknownBankCode(NotTransferable):
    """The bank code is not in the Zengin code list."""


class UnknownBranchCode(NotTransferable):
    """The branch code is not one of the bank's in the Zengin code list."""


class MalformedFile(ValueError):
    """Bytes that are not a well-formed 総合振込 file (when reading one back)."""


@dataclass(frozen=True)
class Remitter:
    """The platform's account the transfers are paid from (依頼人)."""

    code: str
    name: str
    bank_code: str
    branch_code: str
    account_type: AccountType
    account_number: str


@dataclass(frozen=True)
class Transfer:
    """One payment to one account: a data record."""

    bank_code: str
    branch_code: str
    account_type: AccountType
    account_number: str
    holder: str
    amount: int
    customer_code: str = ""


@dataclass(frozen=True)
class ParsedFile:
    """What a file says: transfers as written (holder in Zengin kana), with its trailer's sums."""

    remitter_code: str
    transfer_date: date
    transfers: list[Transfer]
    count: int
    total: int


# --- bank and branch codes -------------------------------------------------------------


def _bank(bank_code: str, field: str) -> Any:
    bank = Bank.all.get(bank_code)
    if bank is None:
        raise UnknownBankCode(field, f"{bank_code!r} is not a bank code in the Zengin code list")
    return bank


def _branch(bank_code: str, branch_code: str, field: str) -> Any:
    branch = _bank(bank_code, f"{field}bank_code").branches.get(branch_code)
    if branch is None:
        raise UnknownBranchCode(
            f"{field}branch_code",
            f"{branch_code!r} is not a branch of bank {bank_code} in the Zengin code list",
        )
    return branch


def check_branch(bank_code: str, branch_code: str) -> None:
    """Raise UnknownBankCode / UnknownBranchCode unless zengin-code knows them."""
    _branch(bank_code, branch_code, "")


def _listed_name(kana: str, field: str) -> str:
    # The list's names are informative (the bank routes on the codes), so a name longer
    # than its field is cut rather than refused.
    try:
        return _listed_kana(kana)
    except NotTransferable as exc:
        raise NotTransferable(field, exc.reason) from exc


@lru_cache(maxsize=65_536)
def _listed_kana(kana: str) -> str:
    """A listed bank or branch name in Zengin kana (a file names the same ones again and
    again)."""
    return zengin_kana(kana, width=len(kana) * 2, field="name")[:NAME_WIDTH]


# --- Zengin kana -----------------------------------------------------------------------

_FULL = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
_HALF = "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝ"
_KANA: dict[str, str] = dict(zip(_FULL, _HALF, strict=True))
# Banks write small kana as large ones; ヰ ヱ ヲ as イ エ オ (not in the Zengin set).
_KANA.update(
    zip("ァィゥェォッャュョヮヵヶヰヱヲ", "ｱｲｳｴｵﾂﾔﾕﾖﾜｶｹｲｴｵ", strict=True),
)
_KANA.update(
    {
        "\u3099": "ﾞ",  # combining voiced mark, as NFD leaves it
        "\u309a": "ﾟ",  # combining semi-voiced mark
        "ー": "-",  # banks write the long vowel as a hyphen
        "\u2010": "-",
        "\u2212": "-",
        " ": " ",
        "(": "(",
        ")": ")",
        ".": ".",
        "-": "-",
        "/": "/",
        ",": ",",
    }
)
_KANA.update({c: c for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"})
_KANA.update({c.lower(): c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"})
_HIRAGANA_TO_KATAKANA = 0x60  # ぁ (U+3041) .. ゖ (U+3096) -> ァ .. ヶ


def zengin_kana(text: str, *, width: int, field: str) -> str:
    """Convert a name (full-width or half-width katakana, hiragana, ASCII letters/digits, space,
    and the few symbols Zengin allows: ( ) . - / , and the long vowel mark) into the Zengin
    half-width character set (JIS X 0201 katakana, upper-case Latin, digits, space, allowed
    symbols; small kana become large ones as banks require; voiced marks become separate
    half-width dakuten/handakuten, which count as characters). Raise NotTransferable naming
    `field` if a character cannot be represented or the result is longer than `width`."""
    # NFKC folds full-width Latin and half-width kana into one form; NFD then splits every
    # voiced kana into its base and a combining mark, which maps to the half-width mark.
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text))
    out: list[str] = []
    for char in decomposed:
        if "\u3041" <= char <= "\u3096":
            char = chr(ord(char) + _HIRAGANA_TO_KATAKANA)
        half = _KANA.get(char)
        if half is None:
            raise NotTransferable(field, f"{char!r} cannot be written in Zengin kana")
        out.append(half)
    converted = "".join(out).strip(" ")
    if len(converted) > width:
        raise NotTransferable(
            field,
            f"{converted!r} is {len(converted)} characters in Zengin kana "
            f"(voiced marks count), at most {width}",
        )
    return converted


# --- building --------------------------------------------------------------------------


def _digits(value: str, width: int, field: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(rf"[0-9]{{{width}}}", value):
        raise NotTransferable(field, f"{value!r} is not {width} digits")
    return value


def _account_type(value: str, field: str, allowed: Sequence[AccountType]) -> str:
    for kind in allowed:
        if value == kind:
            return ACCOUNT_TYPE_CODES[kind]
    raise NotTransferable(field, f"{value!r} is not one of {', '.join(allowed)}")


def _number(value: int, width: int) -> str:
    return str(value).rjust(width, "0")


def _record(layout: tuple[tuple[str, int], ...], values: dict[str, str]) -> str:
    parts = []
    for name, width in layout:
        value = values.get(name, "")
        assert len(value) <= width, (name, value)
        parts.append(value.ljust(width, " "))
    record = "".join(parts)
    assert len(record) == RECORD_BYTES
    return record


def _header(remitter: Remitter, transfer_date: date) -> str:
    where = "remitter."
    code = _digits(remitter.code, 10, f"{where}code")
    name = zengin_kana(remitter.name, width=REMITTER_NAME_WIDTH, field=f"{where}name")
    if not name:
        raise NotTransferable(f"{where}name", "is empty")
    bank_code = _digits(remitter.bank_code, 4, f"{where}bank_code")
    branch_code = _digits(remitter.branch_code, 3, f"{where}branch_code")
    branch = _branch(bank_code, branch_code, where)
    # The header's account type is ordinary, current or "other": a savings account cannot pay.
    account_type = _account_type(
        remitter.account_type, f"{where}account_type", ("ordinary", "current")
    )
    account_number = _digits(remitter.account_number, 7, f"{where}account_number")
    if not is_bank_business_day(transfer_date):
        raise NotTransferable(
            "transfer_date", f"{transfer_date.isoformat()} is not a bank business day"
        )
    return _record(
        HEADER,
        {
            "kind": "1",
            "type_code": TYPE_CODE,
            "code_division": CODE_DIVISION,
            "remitter_code": code,
            "remitter_name": name,
            "transfer_date": transfer_date.strftime("%m%d"),
            "bank_code": bank_code,
            "bank_name": _listed_name(branch.bank.kana, f"{where}bank_name"),
            "branch_code": branch_code,
            "branch_name": _listed_name(branch.kana, f"{where}branch_name"),
            "account_type": account_type,
            "account_number": account_number,
        },
    )


def _data(transfer: Transfer, index: int) -> str:
    where = f"transfers[{index}]."
    bank_code = _digits(transfer.bank_code, 4, f"{where}bank_code")
    branch_code = _digits(transfer.branch_code, 3, f"{where}branch_code")
    branch = _branch(bank_code, branch_code, where)
    account_type = _account_type(
        transfer.account_type, f"{where}account_type", tuple(ACCOUNT_TYPE_CODES)
    )
    account_number = _digits(transfer.account_number, 7, f"{where}account_number")
    holder = zengin_kana(transfer.holder, width=HOLDER_WIDTH, field=f"{where}holder")
    if not holder:
        raise NotTransferable(f"{where}holder", "is empty")
    amount = transfer.amount
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise NotTransferable(f"{where}amount", f"{amount!r} is not a whole number of yen")
    if not MIN_AMOUNT <= amount <= MAX_AMOUNT:
        raise NotTransferable(
            f"{where}amount", f"{amount:,} yen is outside {MIN_AMOUNT} .. {MAX_AMOUNT:,}"
        )
    customer_code = transfer.customer_code
    if not re.fullmatch(rf"[0-9A-Z]{{0,{CUSTOMER_CODE_WIDTH}}}", customer_code):
        raise NotTransferable(
            f"{where}customer_code",
            f"{customer_code!r} is not up to {CUSTOMER_CODE_WIDTH} digits and upper-case letters",
        )
    padded = customer_code.ljust(CUSTOMER_CODE_WIDTH, " ")
    return _record(
        DATA,
        {
            "kind": "2",
            "bank_code": bank_code,
            "bank_name": _listed_name(branch.bank.kana, f"{where}bank_name"),
            "branch_code": branch_code,
            "branch_name": _listed_name(branch.kana, f"{where}branch_name"),
            "clearing_house": CLEARING_HOUSE,
            "account_type": account_type,
            "account_number": account_number,
            "holder": holder,
            "amount": _number(amount, 10),
            "new_code": NEW_CODE,
            "customer_code_1": padded[:10],
            "customer_code_2": padded[10:],
            "transfer_mode": TRANSFER_MODE,
            "edi_flag": NOT_EDI,
        },
    )


def transfer_file(remitter: Remitter, transfer_date: date, transfers: Sequence[Transfer]) -> bytes:
    """The whole file: header (1), data (2) per transfer, trailer (8), end (9); each record
    exactly 120 bytes in Shift_JIS (cp932; all content is single-byte), records joined by CRLF
    and the file ending with CRLF. Validates everything first (codes against zengin-code,
    digits, lengths, amounts, at least one transfer) and raises NotTransferable with a clear
    message naming the record index on the first bad one. The trailer carries the count and
    total amount. Type code (種別コード) 21 総合振込, code division (コード区分) 0 (SJIS).
    New-code (新規コード) field 0 in data records. EDI information not used (customer codes)."""
    if not transfers:
        raise NotTransferable("transfers", "a transfer file needs at least one transfer")
    if len(transfers) > MAX_COUNT:
        raise NotTransferable("transfers", f"{len(transfers):,} transfers, at most {MAX_COUNT:,}")
    records = [_header(remitter, transfer_date)]
    records.extend(_data(transfer, index) for index, transfer in enumerate(transfers))
    total = sum(transfer.amount for transfer in transfers)
    if total > MAX_TOTAL:
        raise NotTransferable("transfers", f"total {total:,} yen exceeds {MAX_TOTAL:,}")
    records.append(
        _record(
            TRAILER, {"kind": "8", "count": _number(len(transfers), 6), "total": _number(total, 12)}
        )
    )
    records.append(_record(END, {"kind": "9"}))
    encoded = [record.encode(ENCODING) for record in records]
    assert all(len(record) == RECORD_BYTES for record in encoded)
    return NEWLINE.join(encoded) + NEWLINE


# --- reading back ----------------------------------------------------------------------


def _split_records(data: bytes) -> list[bytes]:
    # Banks accept records with CRLF after each, or none at all; both read back.
    if data[RECORD_BYTES : RECORD_BYTES + 2] == NEWLINE:
        if not data.endswith(NEWLINE):
            raise MalformedFile("the file does not end with CRLF")
        records = data[: -len(NEWLINE)].split(NEWLINE)
    else:
        if len(data) % RECORD_BYTES:
            raise MalformedFile(f"{len(data)} bytes is not a whole number of 120-byte records")
        records = [data[i : i + RECORD_BYTES] for i in range(0, len(data), RECORD_BYTES)]
    for number, record in enumerate(records, start=1):
        if len(record) != RECORD_BYTES:
            raise MalformedFile(f"record {number} is {len(record)} bytes, not {RECORD_BYTES}")
    return records


def _fields(layout: tuple[tuple[str, int], ...], record: bytes, number: int) -> dict[str, str]:
    try:
        text = record.decode(ENCODING)
    except UnicodeDecodeError as exc:
        raise MalformedFile(f"record {number} is not Shift_JIS: {exc.reason}") from exc
    if len(text) != RECORD_BYTES:
        raise MalformedFile(f"record {number} holds double-byte characters")
    fields: dict[str, str] = {}
    start = 0
    for name, width in layout:
        fields[name] = text[start : start + width]
        start += width
    return fields


def _numeric(fields: dict[str, str], name: str, number: int) -> str:
    value = fields[name]
    if not re.fullmatch(r"[0-9]+", value):
        raise MalformedFile(f"record {number}: {name} {value!r} is not digits")
    return value


def _month_day_near(month_day: str, near: date, number: int) -> date:
    month, day = int(month_day[:2]), int(month_day[2:])
    candidates = []
    for year in (near.year - 1, near.year, near.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        raise MalformedFile(f"record {number}: transfer date {month_day!r} is not a MMDD day")
    return min(candidates, key=lambda candidate: abs(candidate - near))


def parse_transfer_file(data: bytes, *, near: date | None = None) -> ParsedFile:
    """Read a file back (for tests and for reconciling what a bank received); checks record
    kinds, lengths, and that the trailer's count and total match the data records.

    The header carries only MMDD: the transfer date is the one nearest to ``near``
    (default: today in Japan), so a file read around New Year gets the right year.
    """
    records = _split_records(data)
    kinds = "".join(chr(record[0]) for record in records)
    if not re.fullmatch(r"12+89", kinds):
        raise MalformedFile(f"record kinds {kinds!r} are not header, data.., trailer, end")
    header = _fields(HEADER, records[0], 1)
    if header["type_code"] != TYPE_CODE or header["code_division"] != CODE_DIVISION:
        raise MalformedFile(
            f"header type {header['type_code']!r} / code {header['code_division']!r} "
            f"is not {TYPE_CODE} / {CODE_DIVISION}"
        )
    transfer_date = _month_day_near(
        _numeric(header, "transfer_date", 1), near or japan_date(datetime.now(UTC)), 1
    )
    transfers = []
    for number, record in enumerate(records[1:-2], start=2):
        fields = _fields(DATA, record, number)
        account_type = _ACCOUNT_TYPES_BY_CODE.get(fields["account_type"])
        if account_type is None:
            raise MalformedFile(f"record {number}: account type {fields['account_type']!r}")
        transfers.append(
            Transfer(
                bank_code=_numeric(fields, "bank_code", number),
                branch_code=_numeric(fields, "branch_code", number),
                account_type=account_type,
                account_number=_numeric(fields, "account_number", number),
                holder=fields["holder"].rstrip(" "),
                amount=int(_numeric(fields, "amount", number)),
                customer_code=(fields["customer_code_1"] + fields["customer_code_2"]).rstrip(" "),
            )
        )
    trailer_number = len(records) - 1
    trailer = _fields(TRAILER, records[-2], trailer_number)
    count = int(_numeric(trailer, "count", trailer_number))
    total = int(_numeric(trailer, "total", trailer_number))
    if count != len(transfers):
        raise MalformedFile(f"trailer count {count} but {len(transfers)} data records")
    if total != sum(transfer.amount for transfer in transfers):
        raise MalformedFile(
            f"trailer total {total} but the data records add up to "
            f"{sum(transfer.amount for transfer in transfers)}"
        )
    return ParsedFile(
        remitter_code=_numeric(header, "remitter_code", 1),
        transfer_date=transfer_date,
        transfers=transfers,
        count=count,
        total=total,
    )


# --- bank business days ----------------------------------------------------------------


def is_bank_business_day(day: date) -> bool:
    """Whether banks in Japan settle transfers on ``day``: a weekday, not a national
    holiday, and not in the year-end closing of 31 December to 3 January."""
    if day.weekday() >= 5 or jpholiday.is_holiday(day):
        return False
    return not ((day.month == 12 and day.day == 31) or (day.month == 1 and day.day <= 3))


def next_bank_business_day(day: date) -> date:
    """The first day on or after `day` that is a bank business day in Japan: not Saturday,
    Sunday, a national holiday (jpholiday), nor 31 Dec - 3 Jan."""
    while not is_bank_business_day(day):
        day += timedelta(days=1)
    return day


def bank_business_days_after(day: date, n: int) -> date:
    """The ``n``-th bank business day after the first one on or after ``day``
    (``n`` = 0 is ``next_bank_business_day(day)``)."""
    if n < 0:
        raise ValueError(f"n must be at least 0, not {n}")
    result = next_bank_business_day(day)
    for _ in range(n):
        result = next_bank_business_day(result + timedelta(days=1))
    return result
