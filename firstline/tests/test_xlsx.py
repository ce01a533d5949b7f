"""The streaming XLSX writer, read back by two independent readers (openpyxl and calamine)."""

from datetime import UTC, datetime

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from firstline.xlsx import STYLE_HEADER, STYLE_WARNING, Properties, SheetWriter, column_letter


def test_it_names_columns_like_excel():
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


def test_it_writes_a_sheet_both_readers_understand(tmp_path):
    path = tmp_path / "ledger.xlsx"
    created = datetime(2020, 1, 23, 10, 0, tzinfo=UTC)
    properties = Properties(
        title="内部资料",
        author="网格员甲 (worker)",
        comments="导出编号 abc",
        keywords="abc, masked",
        created=created,
        custom={"FirstLine export ID": "abc", "FirstLine unmasked": False},
    )
    with SheetWriter(
        path, "居民", widths=[12, 8, 30], freeze=(2, 1), print_header="&L内部资料", properties=properties
    ) as sheet:
        sheet.row(["内部资料 严禁外传"], STYLE_WARNING)
        sheet.row(["姓名", "年龄", "备注"], STYLE_HEADER)
        sheet.row(["张三", 34, 'A&B <c> "d"'])
        sheet.row(["李四", None, ""])
        sheet.row([" 王五", 2.5, True])

    book = openpyxl.load_workbook(path)
    ws = book.active
    assert ws.title == "居民"
    assert [[cell.value for cell in row] for row in ws.iter_rows()] == [
        ["内部资料 严禁外传", None, None],
        ["姓名", "年龄", "备注"],
        ["张三", 34, 'A&B <c> "d"'],
        ["李四", None, None],
        [" 王五", 2.5, True],
    ]
    assert ws["A1"].font.b and ws["A2"].font.b and ws["A2"].fill.fgColor.rgb == "FFE8EAED"
    assert ws.freeze_panes == "B3"
    assert ws.column_dimensions["C"].width == 30
    assert "内部资料" in ws.oddHeader.left.text
    assert book.properties.title == "内部资料" and book.properties.creator == "网格员甲 (worker)"
    assert book.properties.description == "导出编号 abc" and book.properties.keywords == "abc, masked"
    custom = {prop.name: prop.value for prop in book.custom_doc_props.props}
    assert custom == {"FirstLine export ID": "abc", "FirstLine unmasked": False}
    assert not any(cell.data_type == "f" for row in ws.iter_rows() for cell in row)

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert rows[2] == ["张三", 34.0, 'A&B <c> "d"']


def test_it_drops_characters_xml_cannot_hold_and_keeps_carriage_returns(tmp_path):
    path = tmp_path / "odd.xlsx"
    with SheetWriter(path, "s") as sheet:
        sheet.row(["a\x00b\x1fc", "line\r\nbreak", "tab\there"])
    ws = openpyxl.load_workbook(path).active
    assert [cell.value for cell in ws[1]] == ["abc", "line\r\nbreak", "tab\there"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), min_codepoint=32)), min_size=1, max_size=5)
)
def test_any_printable_text_round_trips(tmp_path_factory, cells):
    path = tmp_path_factory.mktemp("x") / "t.xlsx"
    with SheetWriter(path, "s") as sheet:
        sheet.row(cells)
    ws = openpyxl.load_workbook(path).active
    read = [cell.value for cell in ws[1]] if ws.max_row >= 1 else []
    expected = [cell.replace("\ufffe", "").replace("\uffff", "") or None for cell in cells]
    assert read[: len(expected)] + [None] * (len(expected) - len(read)) == expected
