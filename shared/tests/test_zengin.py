"""The Zengin 総合振込 file: exact records, Zengin kana, refusals, reading back, business days."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zengin_code import Bank

from kumiai.periods import japan_date
from kumiai.zengin import (
    DATA,
    END,
    HEADER,
    TRAILER,
    MalformedFile,
    NotTransferable,
    Remitter,
    Transfer,
    UnknownBankCode,
    UnknownBranchCode,
    bank_business_days_after,
    check_branch,
    is_bank_business_day,
    next_bank_business_day,
    parse_transfer_file,
    transfer_file,
    zengin_kana,
)

IDEOGRAPHIC_SPACE = "\u3000"
REMITTER = Remitter(
    code="1234567890",
    name=f"カブシキガイシャ{IDEOGRAPHIC_SPACE}クミアイ",
    bank_code="0001",  # みずほ銀行
    branch_code="001",  # 東京営業部, listed as トウキヨウ
    account_type="ordinary",
    account_number="1234567",
)
PAY_DAY = date(2027, 1, 12)  # a Tuesday, the day after Coming-of-Age day


def full_width(ascii_text: str) -> str:
    """The full-width forms (U+FF01..) of printable ASCII, as Japanese input methods type them."""
    return "".join(chr(ord(char) + 0xFEE0) for char in ascii_text)


def transfer(**changes: object) -> Transfer:
    base = Transfer(
        bank_code="0001",
        branch_code="001",
        account_type="current",
        account_number="0012345",
        holder=f"ヤマダ{IDEOGRAPHIC_SPACE}タロウ",
        amount=123_456,
        customer_code="D2027000000000000042",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def records(data: bytes) -> list[bytes]:
    assert data.endswith(b"\r\n")
    return data[:-2].split(b"\r\n")


# --- layout and exact bytes ------------------------------------------------------------


@pytest.mark.parametrize("layout", [HEADER, DATA, TRAILER, END])
def test_every_record_layout_is_120_characters(layout: tuple[tuple[str, int], ...]) -> None:
    assert sum(width for _, width in layout) == 120


def test_every_record_is_120_bytes_and_ends_with_crlf() -> None:
    data = transfer_file(REMITTER, PAY_DAY, [transfer(), transfer(amount=1)])
    lines = records(data)
    assert [len(line) for line in lines] == [120] * 5
    assert [line[:1] for line in lines] == [b"1", b"2", b"2", b"8", b"9"]
    # 5 records of 120 bytes, each followed by CRLF.
    assert len(data) == 5 * 122
    assert data.count(b"\r\n") == 5


def test_the_header_record_byte_for_byte() -> None:
    expected = (
        "1"  # data kind: header
        + "21"  # 総合振込
        + "0"  # code division: JIS / Shift_JIS
        + "1234567890"  # remitter code, 10
        + "ｶﾌﾞｼｷｶﾞｲｼﾔ ｸﾐｱｲ".ljust(40)  # remitter name, 40: ャ written large
        + "0112"  # transfer date MMDD
        + "0001"  # bank code
        + "ﾐｽﾞﾎ".ljust(15)  # bank name from the code list
        + "001"  # branch code
        + "ﾄｳｷﾖｳ".ljust(15)  # branch name from the code list
        + "1"  # ordinary
        + "1234567"  # account number
        + " " * 17  # filler
    ).encode("cp932")
    assert len(expected) == 120
    header = records(transfer_file(REMITTER, PAY_DAY, [transfer()]))[0]
    assert header == expected


def test_the_data_record_byte_for_byte() -> None:
    expected = (
        "2"  # data kind: data
        + "0001"  # bank code
        + "ﾐｽﾞﾎ".ljust(15)  # bank name
        + "001"  # branch code
        + "ﾄｳｷﾖｳ".ljust(15)  # branch name
        + "0000"  # clearing house: not used
        + "2"  # current account
        + "0012345"  # account number
        + "ﾔﾏﾀﾞ ﾀﾛｳ".ljust(30)  # payee name
        + "0000123456"  # 123,456 yen, 10 digits
        + "0"  # new code: other
        + "D202700000"  # customer code 1: first 10 of the customer code
        + "0000000042"  # customer code 2: the next 10
        + "7"  # by wire
        + " "  # not EDI
        + " " * 7  # filler
    ).encode("cp932")
    assert len(expected) == 120
    data = records(transfer_file(REMITTER, PAY_DAY, [transfer()]))[1]
    assert data == expected


def test_a_short_customer_code_is_left_aligned_and_space_padded() -> None:
    data = records(transfer_file(REMITTER, PAY_DAY, [transfer(customer_code="INV7")]))[1]
    # Customer codes 1 and 2 are bytes 92..111 (1-based): 1+4+15+3+15+4+1+7+30+10+1 = 91 before.
    assert data[91:111] == b"INV7" + b" " * 16


def test_the_trailer_carries_the_count_and_the_total() -> None:
    amounts = [1_000, 2_500, 9_999_999_999]
    data = transfer_file(REMITTER, PAY_DAY, [transfer(amount=a) for a in amounts])
    # 1,000 + 2,500 + 9,999,999,999 = 10,000,003,499 yen over 3 transfers.
    trailer, end = records(data)[-2:]
    assert trailer == b"8" + b"000003" + b"010000003499" + b" " * 101
    assert end == b"9" + b" " * 119


# --- reading back ----------------------------------------------------------------------


def test_a_file_reads_back_as_it_was_built() -> None:
    transfers = [
        transfer(),
        transfer(
            bank_code="0005",
            branch_code="001",
            account_type="savings",
            account_number="7654321",
            holder="きゃりー ぱみゅぱみゅ",
            amount=1,
            customer_code="",
        ),
    ]
    parsed = parse_transfer_file(transfer_file(REMITTER, PAY_DAY, transfers), near=date(2027, 1, 5))
    assert parsed.remitter_code == "1234567890"
    assert parsed.transfer_date == PAY_DAY
    assert parsed.transfers == [
        replace(transfers[0], holder="ﾔﾏﾀﾞ ﾀﾛｳ"),
        replace(transfers[1], holder="ｷﾔﾘ- ﾊﾟﾐﾕﾊﾟﾐﾕ"),
    ]
    # 123,456 + 1 = 123,457 yen.
    assert (parsed.count, parsed.total) == (2, 123_457)


def test_a_file_without_line_breaks_reads_the_same() -> None:
    data = transfer_file(REMITTER, PAY_DAY, [transfer(), transfer(amount=7)])
    joined = data.replace(b"\r\n", b"")
    assert len(joined) == 5 * 120
    near = date(2027, 1, 5)
    assert parse_transfer_file(joined, near=near) == parse_transfer_file(data, near=near)


def test_the_year_of_the_transfer_date_is_the_one_nearest_to_the_reading() -> None:
    data = transfer_file(REMITTER, date(2027, 1, 4), [transfer()])
    # Read in late December, 0104 is the coming January, not the past one.
    assert parse_transfer_file(data, near=date(2026, 12, 28)).transfer_date == date(2027, 1, 4)
    assert parse_transfer_file(data, near=date(2027, 3, 1)).transfer_date == date(2027, 1, 4)
    today = japan_date(datetime.now(UTC))
    read_today = parse_transfer_file(data).transfer_date
    assert (read_today.month, read_today.day) == (1, 4)
    assert abs(read_today - today) <= timedelta(days=184)


def test_a_trailer_that_does_not_match_the_data_is_refused() -> None:
    lines = records(transfer_file(REMITTER, PAY_DAY, [transfer(amount=100)]))
    wrong_total = b"8" + b"000001" + b"000000000101" + b" " * 101
    tampered = b"\r\n".join([*lines[:2], wrong_total, lines[3]]) + b"\r\n"
    with pytest.raises(MalformedFile, match="trailer total 101 but the data records add up to 100"):
        parse_transfer_file(tampered, near=PAY_DAY)
    wrong_count = b"8" + b"000002" + b"000000000100" + b" " * 101
    tampered = b"\r\n".join([*lines[:2], wrong_count, lines[3]]) + b"\r\n"
    with pytest.raises(MalformedFile, match="trailer count 2 but 1 data records"):
        parse_transfer_file(tampered, near=PAY_DAY)


def test_bad_lengths_and_orders_are_refused() -> None:
    lines = records(transfer_file(REMITTER, PAY_DAY, [transfer()]))
    short = b"\r\n".join([lines[0], lines[1][:119], lines[2], lines[3]]) + b"\r\n"
    with pytest.raises(MalformedFile, match="record 2 is 119 bytes"):
        parse_transfer_file(short, near=PAY_DAY)
    swapped = b"\r\n".join([lines[1], lines[0], lines[2], lines[3]]) + b"\r\n"
    with pytest.raises(MalformedFile, match="record kinds '2189'"):
        parse_transfer_file(swapped, near=PAY_DAY)
    with pytest.raises(MalformedFile, match="does not end with CRLF"):
        parse_transfer_file(b"\r\n".join(lines), near=PAY_DAY)


# --- Zengin kana -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kana"),
    [
        (f"ヤマダ{IDEOGRAPHIC_SPACE}タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ"),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ﾔﾏﾀﾞ ﾀﾛｳ"),  # already Zengin kana: unchanged
        ("キュウヨ イチロウ", "ｷﾕｳﾖ ｲﾁﾛｳ"),  # small kana written large
        ("ｼｮｳｺﾞ ｯ", "ｼﾖｳｺﾞ ﾂ"),  # half-width small kana too
        ("やまだ はなこ", "ﾔﾏﾀﾞ ﾊﾅｺ"),  # hiragana
        ("ぱぴぷぺぽ ゔ", "ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ ｳﾞ"),
        ("ソニー", "ｿﾆ-"),  # the long vowel is written as a hyphen
        ("kumiai llc.", "KUMIAI LLC."),  # ASCII lower -> upper
        (full_width("ABC123"), "ABC123"),  # full-width Latin and digits
        ("カ)クミアイ(ユ/1,2-3", "ｶ)ｸﾐｱｲ(ﾕ/1,2-3"),
        ("  ヤマダ  ", "ﾔﾏﾀﾞ"),  # outer spaces dropped
    ],
)
def test_names_become_zengin_kana(name: str, kana: str) -> None:
    assert zengin_kana(name, width=30, field="holder") == kana


def test_voiced_marks_count_as_characters() -> None:
    assert zengin_kana("ガ" * 15, width=30, field="holder") == "ｶﾞ" * 15
    with pytest.raises(NotTransferable, match=r"32 characters .* at most 30"):
        zengin_kana("ガ" * 16, width=30, field="holder")


@pytest.mark.parametrize("name", ["山田", "ヤマダ・タロウ", "A&B", "ヤマダ@"])
def test_characters_outside_the_zengin_set_are_refused(name: str) -> None:
    with pytest.raises(NotTransferable) as refused:
        zengin_kana(name, width=30, field="transfers[3].holder")
    assert refused.value.field == "transfers[3].holder"
    assert "cannot be written in Zengin kana" in str(refused.value)


def test_a_name_too_long_is_refused() -> None:
    assert zengin_kana("ア" * 30, width=30, field="holder") == "ｱ" * 30
    with pytest.raises(NotTransferable, match=r"holder: .* 31 characters"):
        zengin_kana("ア" * 31, width=30, field="holder")


@given(st.text(alphabet="アガパァッヴあがぱゃ ｱｶﾞﾊﾟｯABCxyz019().-/,ー", max_size=12))
def test_zengin_kana_is_stable_once_converted(name: str) -> None:
    once = zengin_kana(name, width=40, field="holder")
    assert zengin_kana(once, width=40, field="holder") == once
    once.encode("cp932")  # every character is one Shift_JIS byte
    assert len(once.encode("cp932")) == len(once)


# --- refusals --------------------------------------------------------------------------


def test_unknown_bank_and_branch_codes_are_refused() -> None:
    check_branch("0001", "001")
    with pytest.raises(UnknownBankCode, match="bank_code: '9998' is not a bank code"):
        check_branch("9998", "001")
    with pytest.raises(UnknownBranchCode, match="branch_code: '999' is not a branch of bank 0001"):
        check_branch("0001", "999")
    with pytest.raises(UnknownBankCode) as refused:
        transfer_file(REMITTER, PAY_DAY, [transfer(), transfer(bank_code="9998")])
    assert refused.value.field == "transfers[1].bank_code"
    with pytest.raises(UnknownBranchCode) as refused_branch:
        transfer_file(replace(REMITTER, branch_code="999"), PAY_DAY, [transfer()])
    assert refused_branch.value.field == "remitter.branch_code"


@pytest.mark.parametrize("amount", [0, -1, 10**10])
def test_amounts_outside_the_ten_digit_field_are_refused(amount: int) -> None:
    with pytest.raises(NotTransferable) as refused:
        transfer_file(REMITTER, PAY_DAY, [transfer(), transfer(amount=amount)])
    assert refused.value.field == "transfers[1].amount"
    assert "outside 1 .. 9,999,999,999" in refused.value.reason


def test_the_largest_amount_fits() -> None:
    parsed = parse_transfer_file(
        transfer_file(REMITTER, PAY_DAY, [transfer(amount=9_999_999_999)]), near=PAY_DAY
    )
    assert parsed.total == 9_999_999_999


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (transfer(amount=True), "transfers[0].amount"),
        (transfer(account_number="123456"), "transfers[0].account_number"),
        (transfer(account_number=full_width("1234567")), "transfers[0].account_number"),
        (transfer(branch_code="01"), "transfers[0].branch_code"),
        (transfer(account_type="other"), "transfers[0].account_type"),
        (transfer(holder="  "), "transfers[0].holder"),
        (transfer(holder="ア" * 31), "transfers[0].holder"),
        (transfer(customer_code="inv7"), "transfers[0].customer_code"),
        (transfer(customer_code="1" * 21), "transfers[0].customer_code"),
    ],
)
def test_a_bad_transfer_is_refused_naming_its_field(bad: Transfer, field: str) -> None:
    with pytest.raises(NotTransferable) as refused:
        transfer_file(REMITTER, PAY_DAY, [bad, transfer(amount=0)])
    # The first bad record is named, not the second.
    assert refused.value.field == field
    assert str(refused.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("remitter", "field"),
    [
        (replace(REMITTER, code="123456789"), "remitter.code"),
        (replace(REMITTER, name="株式会社クミアイ"), "remitter.name"),
        (replace(REMITTER, name="ア" * 41), "remitter.name"),
        (replace(REMITTER, account_type="savings"), "remitter.account_type"),
        (replace(REMITTER, bank_code="9998"), "remitter.bank_code"),
    ],
)
def test_a_bad_remitter_is_refused(remitter: Remitter, field: str) -> None:
    with pytest.raises(NotTransferable) as refused:
        transfer_file(remitter, PAY_DAY, [transfer()])
    assert refused.value.field == field


def test_no_transfers_or_a_closed_day_are_refused() -> None:
    with pytest.raises(NotTransferable, match="transfers: a transfer file needs at least one"):
        transfer_file(REMITTER, PAY_DAY, [])
    with pytest.raises(NotTransferable, match="transfer_date: 2027-01-11 is not a bank business"):
        transfer_file(REMITTER, date(2027, 1, 11), [transfer()])


# --- property: what is built reads back ------------------------------------------------

BRANCHES = sorted(
    (bank_code, branch_code)
    for bank_code, bank in Bank.all.items()
    for branch_code in bank.branches
)

transfers = st.builds(
    lambda branch, account_type, account_number, holder, amount, customer_code: Transfer(
        bank_code=branch[0],
        branch_code=branch[1],
        account_type=account_type,
        account_number=account_number,
        holder=holder,
        amount=amount,
        customer_code=customer_code,
    ),
    st.sampled_from(BRANCHES),
    st.sampled_from(["ordinary", "current", "savings"]),
    st.from_regex(r"[0-9]{7}", fullmatch=True),
    st.text(alphabet="アガパァッあぱゃ ｱｶﾞABCxyz019().-/,", min_size=1, max_size=15).filter(
        lambda name: name.strip(" ")
    ),
    st.integers(min_value=1, max_value=9_999_999_999),
    st.from_regex(r"[0-9A-Z]{0,20}", fullmatch=True),
)


@settings(max_examples=60)
@given(st.lists(transfers, min_size=1, max_size=12))
def test_what_is_built_reads_back(batch: list[Transfer]) -> None:
    data = transfer_file(REMITTER, PAY_DAY, batch)
    assert all(len(line) == 120 for line in records(data))
    parsed = parse_transfer_file(data, near=PAY_DAY)
    assert parsed.transfer_date == PAY_DAY
    assert [t.amount for t in parsed.transfers] == [t.amount for t in batch]
    assert [
        (t.bank_code, t.branch_code, t.account_type, t.account_number) for t in parsed.transfers
    ] == [(t.bank_code, t.branch_code, t.account_type, t.account_number) for t in batch]
    assert [t.customer_code for t in parsed.transfers] == [t.customer_code for t in batch]
    assert [t.holder for t in parsed.transfers] == [
        zengin_kana(t.holder, width=30, field="holder") for t in batch
    ]
    assert parsed.count == len(batch)
    assert parsed.total == sum(t.amount for t in batch)


# --- bank business days ----------------------------------------------------------------


def test_a_weekend_moves_to_monday() -> None:
    assert next_bank_business_day(date(2026, 11, 7)) == date(2026, 11, 9)  # Sat -> Mon
    assert next_bank_business_day(date(2026, 11, 8)) == date(2026, 11, 9)  # Sun -> Mon
    assert next_bank_business_day(date(2026, 11, 9)) == date(2026, 11, 9)  # Mon stays


def test_a_national_holiday_is_not_a_business_day() -> None:
    # 2027-01-11 is Coming-of-Age day (second Monday of January).
    assert not is_bank_business_day(date(2027, 1, 11))
    assert next_bank_business_day(date(2027, 1, 9)) == date(2027, 1, 12)  # Sat, Sun, holiday


def test_the_year_end_closing_runs_to_the_third_of_january() -> None:
    # 31 Dec (Thu) closed, 1 Jan holiday, 2-3 Jan weekend and closed: Monday 4 Jan.
    assert next_bank_business_day(date(2026, 12, 31)) == date(2027, 1, 4)
    assert not is_bank_business_day(date(2027, 12, 31))  # a Friday, still closed


def test_business_days_after() -> None:
    wednesday = date(2026, 12, 30)
    assert bank_business_days_after(wednesday, 0) == wednesday
    assert bank_business_days_after(wednesday, 1) == date(2027, 1, 4)
    assert bank_business_days_after(wednesday, 2) == date(2027, 1, 5)
    # From a Saturday the 0th is Monday 9 Nov, the 1st Tuesday 10 Nov.
    assert bank_business_days_after(date(2026, 11, 7), 1) == date(2026, 11, 10)
    with pytest.raises(ValueError, match="at least 0"):
        bank_business_days_after(wednesday, -1)


@given(st.dates(min_value=date(2026, 1, 1), max_value=date(2035, 12, 31)))
def test_the_next_business_day_is_the_first_one(day: date) -> None:
    found = next_bank_business_day(day)
    assert found >= day
    assert is_bank_business_day(found)
    skipped = [day + timedelta(days=i) for i in range((found - day).days)]
    assert not any(is_bank_business_day(d) for d in skipped)
