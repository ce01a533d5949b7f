"""Reading back the PDFs WeasyPrint writes, for tests: pages, embedded fonts and the text shown.

WeasyPrint embeds subsets of the fonts it uses (Type0 fonts, Identity-H) with a
ToUnicode map each, and compresses streams (object streams included) with Flate.
This reads exactly that much of PDF — enough to say which words a page shows.
"""

from __future__ import annotations

import re
import zlib

STREAM = re.compile(rb"(\d+) 0 obj\s*<<(.*?)>>\s*stream\r?\n", re.S)
FONT = re.compile(rb"/Type\s*/Font\s*/Subtype\s*/Type0\s*/BaseFont\s*/(\w+)\+([\w-]+)\s*/ToUnicode\s+(\d+) 0 R")
BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
HEX_PAIR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")
HEX_RANGE = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")
FONT_SELECT = re.compile(rb"/(\w+)\s+[\d.]+\s+Tf")
TEXT_OP = re.compile(rb"/(\w+)\s+[\d.]+\s+Tf|\[([^\[\]]*)\]\s*TJ|<([0-9a-fA-F]*)>\s*Tj", re.S)
HEX = re.compile(rb"<([0-9a-fA-F]*)>")


def streams(pdf: bytes) -> dict[int, bytes]:
    """Object number → the stream's data, inflated when it is Flate-compressed."""
    found = {}
    for match in STREAM.finditer(pdf):
        number, header = int(match.group(1)), match.group(2)
        length = re.search(rb"/Length\s+(\d+)", header)
        if length is None:
            continue
        start = match.end()
        data = pdf[start : start + int(length.group(1))]
        if b"/FlateDecode" in header:
            data = zlib.decompress(data)
        found[number] = data
    return found


def everything(pdf: bytes) -> bytes:
    """The file with every stream inflated (object streams hold the dictionaries)."""
    return pdf + b"\n".join(streams(pdf).values())


def fonts(pdf: bytes) -> dict[str, str]:
    """Subset tag → font name of every embedded Type0 font."""
    return {tag.decode(): name.decode() for tag, name, _ref in FONT.findall(everything(pdf))}


def page_count(pdf: bytes) -> int:
    counts = re.findall(rb"/Type\s*/Pages\s*/Kids\s*\[[^\]]*\]\s*/Count\s+(\d+)", everything(pdf))
    return max(int(count) for count in counts)


def _cmap(data: bytes) -> dict[int, str]:
    table: dict[int, str] = {}
    for block in BFCHAR.findall(data):
        for source, target in HEX_PAIR.findall(block):
            table[int(source, 16)] = bytes.fromhex(target.decode()).decode("utf-16-be")
    for block in BFRANGE.findall(data):
        for low, high, start in HEX_RANGE.findall(block):
            first = int(start, 16)
            for offset, glyph in enumerate(range(int(low, 16), int(high, 16) + 1)):
                table[glyph] = chr(first + offset)
    return table


def text(pdf: bytes) -> str:
    """The text the pages show, in drawing order; each run of text on its own line."""
    data = streams(pdf)
    maps = {tag.decode(): _cmap(data[int(ref)]) for tag, _name, ref in FONT.findall(everything(pdf))}
    lines = []
    for content in data.values():
        if b" Tf" not in content:
            continue
        table: dict[int, str] = {}
        for match in TEXT_OP.finditer(content):
            if match.group(1) is not None:
                table = maps.get(match.group(1).decode(), {})
                continue
            runs = HEX.findall(match.group(2)) if match.group(2) is not None else [match.group(3)]
            line = ""
            for run in runs:
                hexes = run.decode()
                line += "".join(table.get(int(hexes[i : i + 4], 16), "") for i in range(0, len(hexes), 4))
            lines.append(line)
    return "\n".join(lines)
