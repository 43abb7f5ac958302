"""Declarative transformation of GLBX.MDP3 records into Arrow tables for the warehouse.

A rule file per schema, `config/market/transform/<schema>.yaml`, says which record fields
to keep and how to convert them, so a new column is a line of YAML, not code:

    schema: trades                      # the DBN schema the file is for
    fields: [ts_event, instrument_id, price, size, side]   # kept, in this order
    prices: [price]                     # int64 fixed point x 1e9 -> float64; UNDEF_PRICE -> null
    timestamps: [ts_event]              # ns since epoch -> timestamp[ns, UTC]; UNDEF -> null
    quantities: [quantity]              # int64; UNDEF_STAT_QUANTITY -> null
    symbols: {raw_symbol: contract, parent: root}   # attribute -> column, by instrument id
    derive:                             # new float64 columns: + - * / over numeric fields
      notional: price * size * multiplier   # (prices already scaled), symbol attributes
    latest: {by: [instrument_id, stat_type, ts_ref], order: [ts_recv, sequence]}
    rename: {ts_event: event_time}      # applied last, to any output column

Text fields (raw_symbol, side, ...) become strings; other fields keep their integer type.
Symbol attributes come from a `SymbolTable` built from definition records and the file's
symbology mappings: raw_symbol, parent (e.g. "CL.FUT"), asset, multiplier
(unit_of_measure_qty), tick (min_price_increment), expiration. An id without a definition
gets nulls. `latest` keeps, per `by` group, only the last record by `order`: statistics
republished later win.

Rule files are checked when loaded; a mistake raises `TransformRuleError` with one line
naming the file and the key, e.g.
`config/market/transform/trades.yaml: derive.notional: unknown field 'prce' (fields: ...)`.
`apply` is vectorized: numpy over the whole array, no per-record Python.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from assets.market.dbn import record_dtype
from assets.market.validation import latest_mask
from headwater import settings

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

RULES_DIR = settings.REPO_ROOT / "config" / "market" / "transform"
SCHEMAS = (
    "ohlcv-1d",
    "ohlcv-1m",
    "trades",
    "definition",
    "statistics",
    "ohlcv-1s",
    "ohlcv-1h",
    "tbbo",
    "mbp-1",
    "bbo-1s",
    "bbo-1m",
    "status",
)
KNOWN_SCHEMAS = SCHEMAS
KEYS = (
    "schema",
    "fields",
    "prices",
    "timestamps",
    "quantities",
    "symbols",
    "derive",
    "latest",
    "rename",
)
SYMBOL_ATTRIBUTES = ("raw_symbol", "parent", "asset", "multiplier", "tick", "expiration")
NUMERIC_ATTRIBUTES = ("multiplier", "tick")
HIDDEN_FIELDS = ("length", "_reserved")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# databento_dbn's sentinels as plain ints: numpy loads when records are transformed, not
# with the definitions.
UNDEF_PRICE = 2**63 - 1
UNDEF_STAT_QUANTITY = 2**63 - 1
UNDEF_TIMESTAMP = 2**64 - 1
PRICE_SCALE = 1e9

# On arrays these are numpy's add, subtract, multiply and (true) divide.
_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


class TransformRuleError(ValueError):
    """A rule file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Derived:
    name: str
    expression: str
    tree: ast.expr


@dataclass(frozen=True)
class TransformRules:
    path: str
    schema: str
    fields: tuple[str, ...]
    prices: tuple[str, ...]
    timestamps: tuple[str, ...]
    quantities: tuple[str, ...]
    symbols: dict[str, str]  # attribute -> output column
    derive: tuple[Derived, ...]
    latest: tuple[tuple[str, ...], tuple[str, ...]] | None  # (by, order)
    rename: dict[str, str]

    @property
    def latest_reason(self) -> str:
        """Why a staged record is not in canonical, as the materialization says it."""
        if not self.latest:
            return "nothing is superseded: every staged record is a canonical row"
        by, order = self.latest
        return (
            f"a later record (by {', '.join(order)}) of the same {', '.join(by)} "
            f"({self.path}: latest)"
        )

    @property
    def columns(self) -> list[str]:
        """Output column names, in order."""
        names = [*self.fields, *self.symbols.values(), *(d.name for d in self.derive)]
        return [self.rename.get(n, n) for n in names]


# ---- loading ---------------------------------------------------------------------------------


def rules_path(schema: str, rules_dir: Path | str = RULES_DIR) -> Path:
    return Path(rules_dir) / f"{schema}.yaml"


def load_schema_rules(schema: str, rules_dir: Path | str = RULES_DIR) -> TransformRules:
    """The rules for `schema` from `<rules_dir>/<schema>.yaml`."""
    path = rules_path(schema, rules_dir)
    rules = load_rules(path)
    if rules.schema != schema:
        raise TransformRuleError(
            f"{_shown(path)}: schema: {rules.schema!r} in a file for {schema!r}"
        )
    return rules


def load_all(rules_dir: Path | str = RULES_DIR) -> dict[str, TransformRules]:
    return {schema: load_schema_rules(schema, rules_dir) for schema in SCHEMAS}


def _shown(path: Path) -> str:
    """The path relative to the repository when it is inside it, as people refer to it."""
    try:
        return str(Path(path).resolve().relative_to(settings.REPO_ROOT))
    except ValueError:
        return str(path)


def load_rules(path: Path | str) -> TransformRules:
    path = Path(path)
    where = _shown(path)

    def fail(key: str, problem: str) -> TransformRuleError:
        return TransformRuleError(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")

    try:
        text = path.read_text()
    except FileNotFoundError:
        raise fail("", "rule file not found") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise fail("", f"not valid YAML{at}: {problem}") from None
    if not isinstance(data, dict):
        raise fail("", "expected a mapping of rule keys (schema, fields, ...)")
    for key in data:
        if key not in KEYS:
            raise fail(str(key), f"unknown key (keys: {', '.join(KEYS)})")

    schema = data.get("schema")
    if schema is None:
        raise fail("schema", "required (one of: " + ", ".join(KNOWN_SCHEMAS) + ")")
    if schema not in KNOWN_SCHEMAS:
        raise fail("schema", f"unknown schema {schema!r} (schemas: {', '.join(KNOWN_SCHEMAS)})")
    dtype = record_dtype(schema)
    record_fields = [n for n in dtype.names if n not in HIDDEN_FIELDS]
    listing = ", ".join(record_fields)

    def field_list(key: str, kind: str | None = None, what: str = "") -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            if key == "fields":
                raise fail(key, "required: a list of record fields")
            return ()
        if not isinstance(value, list) or not value:
            raise fail(key, "expected a non-empty list of record fields")
        for i, name in enumerate(value):
            k = f"{key}[{i}]"
            if not isinstance(name, str):
                raise fail(k, f"expected a field name, got {name!r}")
            if name not in record_fields:
                raise fail(k, f"unknown field {name!r} (fields: {listing})")
            if name in value[:i]:
                raise fail(k, f"field {name!r} listed twice")
            if kind and dtype[name].str.lstrip("<|") != kind:
                raise fail(k, f"field {name!r} is {dtype[name].name}, not {what}")
        return tuple(value)

    fields = field_list("fields")
    prices = field_list("prices", "i8", "a fixed-point price (int64)")
    timestamps = field_list("timestamps", "u8", "a nanosecond timestamp (uint64)")
    quantities = field_list("quantities", "i8", "a quantity (int64)")
    both = set(prices) & set(quantities)
    if both:
        raise fail("quantities", f"field {sorted(both)[0]!r} is also in prices")

    symbols = _mapping(data, "symbols", fail)
    for attribute, column in symbols.items():
        if attribute not in SYMBOL_ATTRIBUTES:
            raise fail(
                f"symbols.{attribute}",
                f"unknown attribute {attribute!r} (attributes: {', '.join(SYMBOL_ATTRIBUTES)})",
            )
        _check_name(fail, f"symbols.{attribute}", column)
    columns = list(fields)
    for attribute, column in symbols.items():
        if column in columns:
            raise fail(f"symbols.{attribute}", f"column {column!r} already exists")
        columns.append(column)

    numeric = [n for n in record_fields if dtype[n].kind in "iu" and n not in timestamps]
    available = numeric + list(NUMERIC_ATTRIBUTES)
    derive = []
    for name, expression in _mapping(data, "derive", fail).items():
        key = f"derive.{name}"
        _check_name(fail, key, name)
        if name in columns:
            raise fail(key, f"column {name!r} already exists")
        tree = _parse(fail, key, expression)
        for used in _names(tree):
            if used in available:
                continue
            if used in record_fields:
                why = "a timestamp" if used in timestamps else f"{dtype[used]}, not a number"
                raise fail(key, f"field {used!r} is {why}")
            raise fail(key, f"unknown field {used!r} (fields: {', '.join(available)})")
        derive.append(Derived(name, expression, tree))
        available.append(name)
        columns.append(name)

    latest = None
    if "latest" in data:
        spec = data["latest"]
        if not isinstance(spec, dict) or set(spec) != {"by", "order"}:
            raise fail("latest", "expected a mapping with 'by' and 'order' lists of fields")
        parts = []
        for part in ("by", "order"):
            names = spec[part]
            if not isinstance(names, list) or not names:
                raise fail(f"latest.{part}", "expected a non-empty list of record fields")
            for i, name in enumerate(names):
                if name not in record_fields:
                    raise fail(f"latest.{part}[{i}]", f"unknown field {name!r} (fields: {listing})")
            parts.append(tuple(names))
        latest = (parts[0], parts[1])

    rename = _mapping(data, "rename", fail)
    targets = set(columns) - set(rename)
    for source, target in rename.items():
        key = f"rename.{source}"
        if source not in columns:
            raise fail(key, f"unknown column {source!r} (columns: {', '.join(columns)})")
        _check_name(fail, key, target)
        if target in targets:
            raise fail(key, f"column {target!r} already exists")
        targets.add(target)

    return TransformRules(
        path=where,
        schema=schema,
        fields=fields,
        prices=prices,
        timestamps=timestamps,
        quantities=quantities,
        symbols=symbols,
        derive=tuple(derive),
        latest=latest,
        rename=rename,
    )


def _mapping(data: dict, key: str, fail) -> dict[str, str]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail(key, "expected a mapping of name: value")
    for name, item in value.items():
        if not isinstance(item, str | int | float) or isinstance(item, bool):
            raise fail(f"{key}.{name}", f"expected text, got {item!r}")
    return {str(k): str(v) for k, v in value.items()}


def _check_name(fail, key: str, name: str) -> None:
    if not IDENTIFIER.match(name):
        raise fail(key, f"{name!r} is not a valid column name (letters, digits, underscore)")


def _parse(fail, key: str, expression: str) -> ast.expr:
    try:
        tree = ast.parse(expression, mode="eval").body
    except SyntaxError:
        raise fail(key, f"not an arithmetic expression: {expression!r}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            continue
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            continue
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            continue
        if isinstance(node, ast.Name | ast.operator | ast.unaryop | ast.Load):
            continue
        raise fail(
            key,
            f"only + - * / over fields and numbers are allowed, found {type(node).__name__} in {expression!r}",
        )
    return tree


def _names(tree: ast.expr) -> list[str]:
    return [n.id for n in ast.walk(tree) if isinstance(n, ast.Name)]


# ---- symbols ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SymbolTable:
    """Per instrument id (sorted): what the symbols attributes look up."""

    instrument_id: np.ndarray  # uint32, sorted
    raw_symbol: np.ndarray  # object (str)
    parent: np.ndarray  # object (str)
    asset: np.ndarray  # object (str)
    multiplier: np.ndarray  # float64
    tick: np.ndarray  # float64
    expiration: np.ndarray  # uint64 ns

    @classmethod
    def from_definitions(cls, definitions: np.ndarray | Iterable[np.ndarray]) -> SymbolTable:
        """From definition records (the latest per id wins). The product comes from the
        definition itself, never from the symbol a request asked for (a raw-symbol request
        for ESH1 maps ESH1 to the id; its product is ES): the parent is the asset with
        Databento's suffix for its class, ".OPT" for options and ".FUT" otherwise."""
        import numpy as np

        arrays = [definitions] if isinstance(definitions, np.ndarray) else list(definitions)
        arrays = [a for a in arrays if len(a)]
        if not arrays:
            empty = np.empty(0, dtype=object)
            return cls(
                np.empty(0, np.uint32),
                empty,
                empty,
                empty,
                np.empty(0),
                np.empty(0),
                np.empty(0, np.uint64),
            )
        defs = np.concatenate(arrays)
        defs = defs[latest_mask(defs, ["instrument_id"], ["ts_recv"])]
        defs = defs[np.argsort(defs["instrument_id"], kind="stable")]
        asset = _text(defs["asset"])
        options = np.isin(defs["instrument_class"], [b"C", b"P"])
        parent = np.array(
            [
                a + (".OPT" if o else ".FUT")
                for a, o in zip(asset.tolist(), options.tolist(), strict=True)
            ],
            dtype=object,
        )
        return cls(
            instrument_id=defs["instrument_id"].astype(np.uint32),
            raw_symbol=_text(defs["raw_symbol"]),
            parent=parent,
            asset=asset,
            multiplier=_scaled(defs["unit_of_measure_qty"]),
            tick=_scaled(defs["min_price_increment"]),
            expiration=defs["expiration"].astype(np.uint64),
        )

    def lookup(self, instrument_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row in this table, found) for each id."""
        import numpy as np

        pos = np.searchsorted(self.instrument_id, instrument_id)
        pos = np.minimum(pos, max(len(self.instrument_id) - 1, 0))
        found = (
            self.instrument_id[pos] == instrument_id
            if len(self.instrument_id)
            else np.zeros(len(instrument_id), dtype=bool)
        )
        return pos, found


def _text(values: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.char.decode(values, "ascii", "replace").astype(object)


def _scaled(values: np.ndarray) -> np.ndarray:
    # Division, not * 1e-9: the quotient is correctly rounded (70_020_000_000 -> 70.02).
    import numpy as np

    out = values.astype(np.float64) / PRICE_SCALE
    out[values == UNDEF_PRICE] = np.nan
    return out


# ---- applying --------------------------------------------------------------------------------

DAY_NS = 86_400 * 1_000_000_000


def latest(rules: TransformRules, records: np.ndarray) -> np.ndarray:
    """The mask of the records `rules.latest` keeps: the last of each `by` group by
    `order`. An undefined timestamp in `by` (a statistic without a reference date, as real
    session high/low and bid/offer statistics come) stands for the UTC day the record was
    received (the first `order` field), so such records are kept one per day, not one per
    partition."""
    import numpy as np

    by, order = (list(part) for part in rules.latest)
    names = list(dict.fromkeys(by + order))
    keys = np.empty(len(records), dtype=[(name, records.dtype[name]) for name in names])
    for name in names:
        keys[name] = records[name]
    for name in by:
        if name in rules.timestamps and order[0] in rules.timestamps:
            undefined = keys[name] == UNDEF_TIMESTAMP
            day = records[order[0]] // np.uint64(DAY_NS) * np.uint64(DAY_NS)
            keys[name][undefined] = day[undefined]
    return latest_mask(keys, by, order)


def apply(rules: TransformRules, records: np.ndarray, symbols: SymbolTable | None) -> pa.Table:
    """Records of `rules.schema` as an Arrow table with `rules.columns`."""
    import numpy as np
    import pyarrow as pa

    expected = record_dtype(rules.schema).names
    if records.dtype.names != expected:
        raise ValueError(f"{rules.path}: records are not {rules.schema} records")
    if rules.latest:
        records = records[latest(rules, records)]
    n = len(records)
    scaled = {name: _scaled(records[name]) for name in rules.prices}
    names: list[str] = []
    arrays: list[pa.Array] = []

    for name in rules.fields:
        values = records[name]
        if name in scaled:
            array = pa.array(scaled[name], pa.float64(), from_pandas=True)
        elif name in rules.timestamps:
            undefined = values == UNDEF_TIMESTAMP
            array = pa.array(
                np.where(undefined, 0, values).astype(np.int64), pa.int64(), mask=undefined
            ).cast(pa.timestamp("ns", tz="UTC"))
        elif name in rules.quantities:
            undefined = values == UNDEF_STAT_QUANTITY
            array = pa.array(values.astype(np.int64), pa.int64(), mask=undefined)
        elif values.dtype.kind == "S":
            array = pa.array(values).cast(pa.string())  # DBN text is NUL-padded ASCII
        else:
            array = pa.array(values)
        names.append(name)
        arrays.append(array)

    pos, found = (
        symbols.lookup(records["instrument_id"])
        if symbols is not None
        else (np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool))
    )
    missing = ~found

    def attribute(name: str) -> np.ndarray:
        if symbols is None or not len(symbols.instrument_id):
            return np.full(n, np.nan) if name in NUMERIC_ATTRIBUTES else np.full(n, None, object)
        return getattr(symbols, name)[pos]

    for name, column in rules.symbols.items():
        if name == "expiration":
            values = attribute(name)
            undefined = missing | (values == UNDEF_TIMESTAMP)
            array = pa.array(
                np.where(undefined, 0, values).astype(np.int64), pa.int64(), mask=undefined
            ).cast(pa.timestamp("ns", tz="UTC"))
        elif name in NUMERIC_ATTRIBUTES:
            array = pa.array(
                np.where(missing, np.nan, attribute(name)), pa.float64(), from_pandas=True
            )
        elif symbols is None or not len(symbols.instrument_id):
            array = pa.nulls(n, pa.string())
        else:
            # Take from the table's few distinct strings, in Arrow: no Python per row.
            table = pa.array(getattr(symbols, name), pa.string())
            array = table.take(pa.array(pos, pa.int64(), mask=missing))
        names.append(column)
        arrays.append(array)

    env: dict[str, np.ndarray] = {}

    def value(name: str) -> np.ndarray:
        if name not in env:
            if name in scaled:
                env[name] = scaled[name]
            elif name in NUMERIC_ATTRIBUTES:
                env[name] = np.where(missing, np.nan, attribute(name))
            else:
                values = records[name]
                env[name] = values.astype(np.float64)
                if name in rules.quantities:
                    env[name][values == UNDEF_STAT_QUANTITY] = np.nan
        return env[name]

    for derived in rules.derive:
        with np.errstate(divide="ignore", invalid="ignore"):
            result = np.asarray(_evaluate(derived.tree, value), dtype=np.float64)
        if result.ndim == 0:
            result = np.full(n, float(result))
        result = np.where(np.isfinite(result), result, np.nan)
        env[derived.name] = result
        names.append(derived.name)
        arrays.append(pa.array(result, pa.float64(), from_pandas=True))

    return pa.table(arrays, names=[rules.rename.get(n, n) for n in names])


def _evaluate(node: ast.expr, value):
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_evaluate(node.left, value), _evaluate(node.right, value))
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, value)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return value(node.id)
    raise TypeError(f"unexpected node {type(node).__name__}")  # excluded at load
