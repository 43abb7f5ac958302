"""Reading Databento DBN files (`.dbn` or `.dbn.zst`) in bounded memory.

`read_chunks` streams a file as numpy structured arrays of at most `count` records
(`DBNStore.to_ndarray(count=...)`), so a file of any size is processed a chunk at a
time. `read_info` gives the metadata: schema, window and the symbology mappings as
`{instrument_id: [(start_date, end_date, symbol)]}` (end exclusive; for a parent
request the symbol is the parent, e.g. "CL.FUT").

Files of DBN versions 1 and 2 (Databento's files from before 2024 are version 1) are
upgraded on read to version 3, databento-dbn's own upgrade (`VersionUpgradePolicy.
UPGRADE_TO_V3`, through its Transcoder): every chunk has the current record layout, so
one table layout holds every version, and a version 1 file gives the same records as the
version 3 file of the same data (definitions gain the v3 fields, undefined).

Databento's reader does not notice a `.dbn.zst` cut short at a compressed block
boundary: it returns the records decoded so far without complaint. So before the
first chunk the zstd frames are walked by their block headers (seeks only, no
decompression) and a stream that stops before its last block raises. (A cut exactly
between two frames would pass; the Transcoder writes a file as one frame.) Every failure,
whether the library's or ours, is a `DBNFileError` with one line naming the file and
what is wrong, without the library's traceback text.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import databento_dbn as dbn

from assets.market.databento_import import import_databento

if TYPE_CHECKING:
    import databento as db
    import numpy as np


CURRENT_VERSION = 3  # the DBN version record_dtype describes; older files are upgraded to it
UPGRADE_READ_BYTES = 1 << 20  # decompressed bytes fed to the upgrading transcoder at a time
DEFAULT_COUNT = 65_536  # records per chunk: ~3.5 MB of ohlcv bars, ~34 MB of definitions

ZSTD_MAGIC = 0xFD2FB528
ZSTD_SKIPPABLE = range(0x184D2A50, 0x184D2A60)
DBN_MAGIC = b"DBN"

Source = str | Path | bytes


class DBNFileError(Exception):
    """A DBN file that cannot be read completely; the message names the file."""


class WrongSchemaError(DBNFileError):
    """A whole DBN file of another schema than the one asked for: reading it again will not
    change that."""


@dataclass(frozen=True)
class DBNInfo:
    name: str
    dataset: str
    schema: str
    stype_in: str | None
    stype_out: str
    start_ns: int
    end_ns: int | None
    symbols: tuple[str, ...]
    # instrument_id -> [(start_date, end_date exclusive, symbol in stype_in)]
    mappings: dict[int, list[tuple[date, date, str]]]
    version: int


@cache
def record_dtype(schema: str) -> np.dtype:
    """The numpy dtype of one record of `schema` as DBNStore returns it (current DBN
    version), taken from a metadata-only file so it always matches the library."""
    import_databento()  # first: keeps the warning filters (assets/market/databento_import.py)
    import databento as db

    metadata = dbn.Metadata(
        dataset="GLBX.MDP3",
        start=0,
        stype_in=dbn.SType.RAW_SYMBOL,
        stype_out=dbn.SType.INSTRUMENT_ID,
        schema=dbn.Schema(schema),
    )
    return db.DBNStore.from_bytes(bytes(metadata)).to_ndarray().dtype


# Schemas whose records are dated by ts_recv, Databento's index time for them (what a
# request's window selects on): a definition's ts_event is the instrument's last change; a
# BBO's is its last update, before its interval's end (ts_recv); a status's is when the state
# began, a day earlier in the snapshot that opens a file. Bars, trades and statistics are
# dated by ts_event, as they always were here.
RECEIVED_DATED = ("definition", "tbbo", "mbp-1", "bbo-1s", "bbo-1m", "status")


def time_field(schema: str) -> str:
    """The field that dates a record of `schema`: its partition and the M-R07 window."""
    return "ts_recv" if schema in RECEIVED_DATED else "ts_event"


def expected_rtypes(schema: str) -> set[int]:
    """The record types a file of `schema` may hold: the schema's own (tbbo and mbp-1 both
    carry MBP_1, bbo-1s BBO_1S, bbo-1m BBO_1M, status STATUS, as Databento's files do)."""

    rtypes = {int(dbn.RType.from_schema(dbn.Schema(schema)))}
    if schema.startswith("ohlcv-"):
        # Older files carry the generic OHLCV rtype; daily bars may be end-of-day bars.
        rtypes.add(int(dbn.RType.OHLCV_DEPRECATED))
    if schema == "ohlcv-1d":
        rtypes.add(int(dbn.RType.OHLCV_EOD))
    return rtypes


def _name(source: Source) -> str:
    return "<bytes>" if isinstance(source, bytes | bytearray) else str(source)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _open(source: Source) -> BinaryIO:
    if isinstance(source, bytes | bytearray):
        return io.BytesIO(source)
    try:
        return open(source, "rb")
    except FileNotFoundError:
        raise DBNFileError(f"{source}: file not found") from None
    except OSError as exc:
        raise DBNFileError(f"{source}: cannot open: {_one_line(exc)}") from None


def _size(f: BinaryIO) -> int:
    pos = f.tell()
    size = f.seek(0, io.SEEK_END)
    f.seek(pos)
    return size


def _check_zstd(f: BinaryIO, size: int) -> str | None:
    """Walk the zstd frames of `f` by their headers (RFC 8878). Returns what is wrong,
    or None when every frame is complete."""
    pos = 0
    while pos < size:
        f.seek(pos)
        head = f.read(4)
        if len(head) < 4:
            return f"truncated: {size - pos} stray byte(s) after the last zstd frame"
        magic = int.from_bytes(head, "little")
        if magic in ZSTD_SKIPPABLE:
            length = f.read(4)
            if len(length) < 4:
                return "truncated inside a skippable zstd frame header"
            pos += 8 + int.from_bytes(length, "little")
            continue
        if magic != ZSTD_MAGIC:
            return f"corrupt: no zstd frame at byte {pos}"
        descriptor = f.read(1)
        if not descriptor:
            return f"truncated: zstd frame header cut at byte {pos + 4} of {size}"
        fhd = descriptor[0]
        fcs_flag, single_segment, checksum, dict_flag = (
            fhd >> 6,
            fhd >> 5 & 1,
            fhd >> 2 & 1,
            fhd & 3,
        )
        header = (
            (0 if single_segment else 1)
            + (0, 1, 2, 4)[dict_flag]
            + ((1 if single_segment else 0), 2, 4, 8)[fcs_flag]
        )
        pos += 5 + header
        while True:
            f.seek(pos)
            block = f.read(3)
            if len(block) < 3:
                return f"truncated: zstd stream ends at byte {size} before its last block"
            value = int.from_bytes(block, "little")
            last, block_type, block_size = value & 1, value >> 1 & 3, value >> 3
            if block_type == 3:
                return f"corrupt: reserved zstd block type at byte {pos}"
            pos += 3 + (1 if block_type == 1 else block_size)
            if pos > size:
                return (
                    f"truncated: the file ends at byte {size} inside a zstd block "
                    f"that needs {pos - size} more byte(s)"
                )
            if last:
                break
        pos += 4 if checksum else 0
        if pos > size:
            return "truncated: zstd frame checksum missing"
    return None


def _check_complete(source: Source) -> None:
    """Raise DBNFileError unless the file is whole: complete zstd frames, or for plain
    DBN a body that divides into whole records."""
    name = _name(source)
    f = _open(source)
    try:
        size = _size(f)
        if size == 0:
            raise DBNFileError(f"{name}: empty file")
        head = f.read(8)
        f.seek(0)
        if len(head) >= 4 and int.from_bytes(head[:4], "little") == ZSTD_MAGIC:
            problem = _check_zstd(f, size)
            if problem:
                raise DBNFileError(f"{name}: {problem}")
        elif head[:3] == DBN_MAGIC:
            if len(head) < 8:
                raise DBNFileError(f"{name}: truncated inside the DBN metadata header")
            body = size - 8 - int.from_bytes(head[4:8], "little")
            if body < 0:
                raise DBNFileError(f"{name}: truncated inside the DBN metadata")
            # The first record's length byte (in 4-byte words) gives the record size
            # whatever the DBN version.
            f.seek(size - body)
            first = f.read(1)
            loose = body % (first[0] * 4) if first and first[0] else 0
            if loose:
                raise DBNFileError(f"{name}: truncated: last record is {loose} byte(s) short")
        else:
            raise DBNFileError(f"{name}: not a DBN file (neither zstd nor DBN at the start)")
    finally:
        f.close()


def _store(source: Source) -> db.DBNStore:
    import_databento()  # first: keeps the warning filters (assets/market/databento_import.py)
    import databento as db
    import zstandard
    from databento.common.error import BentoError

    name = _name(source)
    try:
        if isinstance(source, bytes | bytearray):
            return db.DBNStore.from_bytes(bytes(source))
        return db.DBNStore.from_file(source)
    except FileNotFoundError:
        raise DBNFileError(f"{name}: file not found") from None
    except (dbn.DBNError, BentoError, zstandard.ZstdError, ValueError, OSError) as exc:
        raise DBNFileError(f"{name}: unreadable metadata: {_one_line(exc)}") from None


def _close(store: db.DBNStore) -> None:
    # DBNStore keeps its file open for the life of the object; closing the reader it
    # hands out (closefd=True for zstd) closes that file now instead of at collection.
    import_databento()  # first: keeps the warning filters (assets/market/databento_import.py)
    from databento.common.error import BentoError

    try:
        store.reader.close()
    except (OSError, ValueError, BentoError):
        pass


def read_info(source: Source) -> DBNInfo:
    """Metadata of a DBN file; raises DBNFileError if the header cannot be decoded."""

    store = _store(source)
    try:
        meta = store.metadata
        mappings: dict[int, list[tuple[date, date, str]]] = {}
        stype_in = str(meta.stype_in) if meta.stype_in is not None else None
        for symbol, intervals in store.mappings.items():
            for interval in intervals:
                text = interval["symbol"]
                if not text:
                    continue
                if stype_in == "instrument_id":  # inverse mapping: id in, symbol out
                    instrument_id, resolved = int(symbol), text
                else:
                    instrument_id, resolved = int(text), symbol
                mappings.setdefault(instrument_id, []).append(
                    (interval["start_date"], interval["end_date"], resolved)
                )
        for intervals in mappings.values():
            intervals.sort()
        end = meta.end
        return DBNInfo(
            name=_name(source),
            dataset=meta.dataset,
            schema=str(store.schema) if store.schema is not None else "",
            stype_in=stype_in,
            stype_out=str(meta.stype_out),
            start_ns=int(meta.start),
            end_ns=None if end is None or end == dbn.UNDEF_TIMESTAMP else int(end),
            symbols=tuple(meta.symbols),
            mappings=mappings,
            version=int(meta.version),
        )
    except (ValueError, KeyError) as exc:
        raise DBNFileError(f"{_name(source)}: unreadable symbology: {_one_line(exc)}") from None
    finally:
        _close(store)


def read_chunks(
    source: Source, count: int = DEFAULT_COUNT, schema: str | None = None
) -> Iterator[np.ndarray]:
    """Yield the records of a single-schema DBN file as read-only structured arrays of
    at most `count` records (copy one before changing it). A truncated or corrupt file
    raises DBNFileError before the first chunk, and so does a file of another schema than
    `schema` (when given: WrongSchemaError); a decode failure further in raises it where it
    is met. Memory holds one chunk whatever the file size."""
    import_databento()  # first: keeps the warning filters (assets/market/databento_import.py)
    import numpy as np
    import zstandard
    from databento.common.error import BentoError, BentoWarning

    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    name = _name(source)
    _check_complete(source)
    store = _store(source)
    try:
        if store.schema is None:
            raise DBNFileError(f"{name}: mixed record types (no schema in the metadata)")
        expected, schema = schema, str(store.schema)
        if expected is not None and schema != expected:
            raise WrongSchemaError(f"{name}: holds {schema} records, expected {expected}")
        rtypes = np.array(sorted(expected_rtypes(schema)), dtype=np.uint8)
        if int(store.metadata.version) < CURRENT_VERSION:
            chunks = _upgraded_chunks(source, schema, count)
        else:
            chunks = store.to_ndarray(count=count)
        while True:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", BentoWarning)
                try:
                    chunk = next(chunks)
                except StopIteration:
                    break
                except (zstandard.ZstdError, BentoError, dbn.DBNError, ValueError, OSError) as exc:
                    raise DBNFileError(f"{name}: corrupt: {_one_line(exc)}") from None
            if any(issubclass(w.category, BentoWarning) for w in caught):
                raise DBNFileError(f"{name}: truncated: the last record is incomplete")
            wrong = ~np.isin(chunk["rtype"], rtypes) if len(chunk) else None
            if wrong is not None and wrong.any():
                bad = int(chunk["rtype"][wrong][0])
                raise DBNFileError(
                    f"{name}: corrupt: record type {bad} in a {schema} file "
                    f"(expected {', '.join(map(str, rtypes.tolist()))})"
                )
            yield chunk
    finally:
        _close(store)


class _Sink(io.RawIOBase):
    """Where the upgrading transcoder writes: the bytes are taken as they come."""

    def __init__(self):
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.data += b
        return len(b)


def _upgraded_chunks(source: Source, schema: str, count: int) -> Iterator[np.ndarray]:
    """The records of a DBN version 1 or 2 file as version 3 arrays of at most `count`
    records, upgraded by databento-dbn a block at a time (bounded memory)."""
    import numpy as np
    import zstandard

    dtype = record_dtype(schema)
    sink = _Sink()
    transcoder = dbn.Transcoder(
        sink,
        dbn.Encoding.DBN,
        dbn.Compression.NONE,
        upgrade_policy=dbn.VersionUpgradePolicy.UPGRADE_TO_V3,
    )
    body = None  # offset of the first record in sink.data, once the metadata is out
    f = _open(source)
    try:
        head = f.read(4)
        f.seek(0)
        zstd = int.from_bytes(head, "little") == ZSTD_MAGIC
        reader = zstandard.ZstdDecompressor().stream_reader(f, closefd=False) if zstd else f
        done = False
        while not done:
            block = reader.read(UPGRADE_READ_BYTES)
            done = not block
            if block:
                transcoder.write(block)
            transcoder.flush()
            if body is None and len(sink.data) >= 8:
                body = 8 + int.from_bytes(sink.data[4:8], "little")
            if body is None or len(sink.data) < body:
                continue
            whole = (len(sink.data) - body) // dtype.itemsize
            take = whole if done else whole - whole % count
            for first in range(0, take, count):
                n = min(count, take - first)
                start = body + first * dtype.itemsize
                yield np.frombuffer(bytes(sink.data[start : start + n * dtype.itemsize]), dtype)
            del sink.data[body : body + take * dtype.itemsize]
    finally:
        f.close()
