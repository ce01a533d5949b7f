"""Build the spreadsheets the import tests read — in code, from synthetic people only.

Writers take rows as lists of Python values (``str``, ``int``, ``float``, ``date``,
``datetime``, ``bool``; ``None`` or ``""`` leaves the cell empty) and write them as
Excel would store them: a number stays a number (so an 18-digit ID typed as a
number loses its last digits, as in real files), a date is a date cell.

Layout builders return the rows of lists as they arrive in communities, title rows
included, with the mess real files have: full-width digits, stray spaces, numbers
stored as floats, dates in every form. Everything is deterministic; the expected
parse of each row is written out in ``test_import_layouts.py``.

    write_xlsx(path, hotel_transfer_list())
    write_csv(path, community_ledger(), encoding="gbk")
    write_xlsx(path, ledger_rows(100_000), constant_memory=True)
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from firstline.conftest import make_id_number

Rows = list[list[Any]]

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


# --- writers


def write_xlsx(path: str | Path, rows: Iterable[Sequence[Any]], *, constant_memory: bool = False) -> Path:
    """An .xlsx with one sheet; ``constant_memory`` streams rows to disk (use it for 100,000 rows)."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": constant_memory, "strings_to_numbers": False})
    sheet = workbook.add_worksheet("Sheet1")
    date_format = workbook.add_format({"num_format": DATE_FORMAT})
    datetime_format = workbook.add_format({"num_format": DATETIME_FORMAT})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif isinstance(value, datetime):
                sheet.write_datetime(r, c, value, datetime_format)
            elif isinstance(value, date):
                sheet.write_datetime(r, c, value, date_format)
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, str(value))
    workbook.close()
    return Path(path)


def write_xls(path: str | Path, rows: Iterable[Sequence[Any]]) -> Path:
    """A legacy .xls (BIFF8) with one sheet, written by xlwt."""
    import xlwt

    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("Sheet1")
    date_style = xlwt.easyxf(num_format_str=DATE_FORMAT)
    datetime_style = xlwt.easyxf(num_format_str=DATETIME_FORMAT)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, datetime):
                sheet.write(r, c, value, datetime_style)
            elif isinstance(value, date):
                sheet.write(r, c, value, date_style)
            else:
                sheet.write(r, c, value)
    workbook.save(str(path))
    return Path(path)


def write_csv(
    path: str | Path, rows: Iterable[Sequence[Any]], encoding: str = "gbk", bom: bool = False, delimiter: str = ","
) -> Path:
    """A CSV as Excel saves it: GBK by default (Chinese Windows), or ``encoding="utf-8", bom=True``."""
    text_rows = [[_csv_text(value) for value in row] for row in rows]
    with open(path, "w", encoding="utf-8-sig" if bom and encoding == "utf-8" else encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(text_rows)
    return Path(path)


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y/%m/%d %H:%M")
    if isinstance(value, date):
        return value.strftime("%Y/%m/%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # as Excel shows it
    return str(value)


def full_width(text: str) -> str:
    """``"3-2-501"`` → ``"３－２－５０１"``: ASCII as typed with a Chinese input method in full-width mode."""
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else "\u3000" if ch == " " else ch for ch in text)


# --- synthetic people (IDs from make_id_number, phones 170xxxxxxxx)

ZHANG_ID = make_id_number("420102", date(1990, 3, 7), 123)  # male
LI_ID = make_id_number("420103", date(1975, 11, 20), 224)  # female
WANG_ID = make_id_number("420106", date(1962, 5, 1), 369)  # male; check character X
ZHAO_ID = make_id_number("110105", date(1949, 12, 31), 2)  # female, the legacy 15-digit number below
ZHAO_ID_15 = "110105491231002"
CHEN_ID = make_id_number("420111", date(2001, 8, 15), 48)  # female
LIU_ID = make_id_number("420102", date(1988, 2, 29), 75)  # male
SUN_ID = make_id_number("420104", date(1995, 6, 30), 102)  # female
ZHOU_ID = make_id_number("420105", date(1980, 1, 1), 9)  # male


def bad_check_digit(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


# --- layouts
# Rows are laid out one per line, as in the sheet, hence fmt: off.


def hotel_transfer_list() -> Rows:
    """集中隔离酒店转运名单: two title rows above the header, a 序号 column, mixed date forms."""
    # fmt: off
    return [
        ["江岸区集中隔离酒店转运人员名单"],
        ["填报单位：幸福社区", "", "", "", "填报日期：2020年2月3日"],
        ["序号", "姓名", "性别", "年龄", "身份证号码", "联系电话(手机)", "现住址", "隔离地点", "入住时间",
         "解除隔离日期", "备注"],
        [1, "张 三", "男", 29, f"{ZHANG_ID[:6]} {ZHANG_ID[6:14]} {ZHANG_ID[14:]}", "170 0000 0001",
         "阳光花园3栋2单元501室", "如家酒店（江岸店）", "2020.2.3", "2020年2月17日", "密接"],
        [2, "李四 ", "女", "44岁", full_width(LI_ID), 17000000002.0, "３－２－５０２", "如家酒店",
         date(2020, 2, 3), 43878, ""],
        [3, "王五", "男性", 57.0, WANG_ID.lower(), "+86 170-0000-0003", "3幢501室", "如家酒店",
         "2月3日", "2020/2/17", None],
        [4, "赵六", "女", 70, ZHAO_ID_15, "(0571)8888-0004", "幸福路12号阳光花园3号楼1单元101", "锦江之星",
         "20200204", datetime(2020, 2, 18, 9, 0), "15位老身份证"],
        [5, "\u3000陈七\u200b", "女", 18, CHEN_ID, "1700000000", "阳光花园", "锦江之星", "2020-02-04", "2月18", ""],
        [6, "刘八", "女", 35, bad_check_digit(LIU_ID), "17000000006", "3-201", "锦江之星", "二月四日", "2020-02-18",
         ""],
        [7, "", "男", 40, SUN_ID, "17000000007", "3-2-601", "锦江之星", "2020-02-04", "2020-02-18", "姓名漏填"],
        ["", "", "", "", "", "", "", "", "", "", ""],
        [9],  # a pre-numbered row nobody filled in
    ]
    # fmt: on


def returnee_declaration() -> Rows:
    """返乡人员登记表: one title row, movement columns, temperatures and symptoms as typed."""
    # fmt: off
    return [
        ["幸福街道返乡人员登记表（第3批）"],
        ["姓名", "性别", "身份证号", "联系方式", "户籍地", "现居住地址", "人员类别", "从何地返回", "返回时间",
         "交通方式", "车次/航班/车牌", "同行人员", "体温", "症状", "管控措施", "下发批次"],
        ["张三", "男", ZHANG_ID, "17000000001", "湖北省武汉市江岸区", "阳光花园3-2-501", "本地户籍", "湖北武汉",
         "1月23日", "高铁", "g 1234", "妻子、儿子", "36.5℃", "无", "居家隔离", 3.0],
        ["李四", "女", LI_ID, "170-0000-0002", "湖北省孝感市", "阳光花园3栋2单元502室", "外来人员", "湖北孝感",
         "2020/1/22", "自驾", "鄂k·12345", "", "36.8度", "咳嗽", "居家隔离", "3"],
        ["Maria Rossi", "女", "", "17000000009", "意大利米兰", "阳光花园5栋1单元1201", "境外", "意大利",
         date(2020, 3, 1), "飞机", "ca 1234", "", 36.4, "无症状", "集中隔离", "3"],
        ["王五", "女", WANG_ID, "17000000003", "湖北省武汉市", "3号楼2单元301", "流动人口", "武汉",
         "2020年1月21日", "大巴", "", "", "39.9", "发热", "送发热门诊", "3"],
        ["周十", "男", ZHOU_ID, "1700000003", "湖北省黄冈市", "3-2-302", "本地", "黄冈",
         "1.32", "火车K81", "", "", "正常", "", "", "3"],
    ]
    # fmt: on


def rail_ticket_list() -> Rows:
    """铁路旅客信息: the columns the railway sends, 开车时间 as date-times, no title row."""
    # fmt: off
    return [
        ["姓名", "证件号码", "开车时间", "车次", "始发地", "目的地", "车厢号", "座位号", "户籍地"],
        ["张三", ZHANG_ID, datetime(2020, 1, 22, 8, 30), "G1234", "武汉", "北京西", "05", "12F", "湖北省武汉市"],
        ["李四", LI_ID, "2020-01-22 14:05", "d 3021", "汉口", "上海虹桥", "3车", "8a号", "湖北省孝感市"],
        ["孙九", SUN_ID, "2020/1/23", "Z38", "武昌", "北京西", 11.0, "023号", "湖北省武汉市"],
        ["周十", ZHOU_ID, "2020年1月23日 7:45", "K1156", "汉口", "广州", "15", "无座", "湖北省武汉市"],
        ["刘八", LIU_ID, "1月24日", "G79", "武汉", "深圳北", "2", "3C", "湖北省武汉市"],
    ]
    # fmt: on


def gate_registration() -> Rows:
    """小区卡口登记表: separate 小区/楼栋/单元/房号 columns, temperatures, columns the ledger does not keep."""
    # fmt: off
    return [
        ["阳光花园南门出入登记表"],
        ["日期", "小区", "楼栋", "单元", "房号", "姓名", "联系电话", "体温(℃)", "出/入", "事由"],
        [date(2020, 2, 5), "阳光花园", "3号楼", "2单元", 501.0, "张三", 17000000001, 36.6, "出", "买菜"],
        [date(2020, 2, 5), "阳光花园", 3.0, 2, "502室", "李四", "17000000002", "36.4", "入", ""],
        [date(2020, 2, 5), "阳光花园", "三栋", "二单元", "601", "王五", "170 0000 0003", "36,9", "出", "就医"],
        [date(2020, 2, 5), "阳光花园", "A座", "东单元", "1201", "孙九", "17000000007", 34.0, "出", ""],
        [date(2020, 2, 5), "阳光花园", "3", "", "2-701", "周十", "17000000008", "36.5", "入", ""],
    ]
    # fmt: on


def community_ledger() -> Rows:
    """A community's own 台账, meant for a CSV: full-width digits and spaces, numbers re-typed as text (``3.0``)."""
    # fmt: off
    return [
        ["幸福社区居民台账"],
        ["姓名", "性别", "出生日期", "身份证", "手机号", "与户主关系", "楼栋", "单元", "房号", "人员类型", "工作单位",
         "备注"],
        ["张三", "男", "1990-03-07", ZHANG_ID, "170 0000 0001", "户主", "3.0", "2.0", "501.0", "户籍", "武汉某公司",
         ""],
        ["李四", "女", "1975/11/20", full_width(LI_ID), "+86 17000000002", "妻", "3栋", "2", "501", "户籍", "", "独居"],
        ["王小五", "男", "", "", "１７０００００００１０", "户主之子", "3", "2", "501", "", "第一中学", ""],
        ["\u3000赵六", "女", "1949年12月31日", ZHAO_ID_15, "", "母亲", "3", "2", "501", "", "", "老身份证"],
        ["陈七", "男", "2001-08-15", CHEN_ID, "17000000005", "租户", "5", "1", "1201", "外来", "", "性别填错"],
    ]
    # fmt: on


# --- big files for benchmarks

LEDGER_HEADER = [
    "姓名",
    "性别",
    "身份证号",
    "联系电话",
    "现住址",
    "人员类别",
    "返回时间",
    "从何地返回",
    "交通方式",
    "车次",
    "体温",
    "备注",
]


def ledger_rows(count: int, *, title: bool = True) -> Iterator[list[Any]]:
    """A title row, the header, then ``count`` distinct valid people: a returnee ledger of any size."""
    if title:
        yield ["幸福街道返乡人员台账"]
    yield list(LEDGER_HEADER)
    surnames = "张王李赵刘陈杨黄周吴"
    for i in range(count):
        born = date(1950 + i % 60, 1 + i % 12, 1 + i % 28)
        yield [
            f"{surnames[i % 10]}{'伟芳娜敏静丽强磊军洋'[i // 10 % 10]}{i}",
            "男" if i % 2 else "女",
            make_id_number("420102", born, i % 1000),
            f"170{i:08d}",
            f"阳光花园{1 + i % 40}-{1 + i % 4}-{100 * (1 + i % 18) + 1 + i % 4}",
            ("本地", "外来")[i % 2],
            date(2020, 1, 1 + i % 31),
            "湖北武汉",
            ("高铁", "自驾", "飞机")[i % 3],
            ("G1234", "鄂A12345", "CA1234")[i % 3],
            36.0 + (i % 10) / 10,
            "",
        ]
