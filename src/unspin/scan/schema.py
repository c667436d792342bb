"""The row schema every scan writes, defined once for pyarrow and Spark.

One row per record, errors included (``error`` set, ``score``/``spun`` null),
so ``count(*)`` over the output equals the number of records read.

=============  =========  ==========================================================
column         type       meaning
=============  =========  ==========================================================
id             string     deterministic record id (path, path:LINE, path@OFFSET)
origin         string     the record's URL if it has one, else its file path
source         string     the file the record was read from
score          double     calibrated P(spun) from the core (null on error)
spun           bool       score >= doc_threshold (null on error)
n_spans        int32      number of flagged spans
top_spans      string     JSON list of the 5 most confident spans: text, restored,
                          confidence, start, end
n_suspects     int32      number of suspects (``Analysis.suspects``: not flagged, for
                          review; at most ``core.MAX_SUSPECTS``)
top_suspects   string     JSON list of the 5 likeliest suspects: text, restored,
                          confidence, given (P(substituted | spun)), start, end
evidence       string     JSON list of document evidence (kind, detail, value), e.g.
                          spinner signatures
language       string     "en" or "other" (cheap heuristic, see rows.guess_language)
length         int64      characters of text analysed (0 on read errors)
elapsed_s      double     seconds spent in the core for this record
error          string     one-line reason the record was not analysed, else null
mode           string     "screen" or "full" (after --rescore-top: "full")
=============  =========  ==========================================================
"""

from __future__ import annotations

from typing import Any

#: (name, arrow type name, nullable); the single source of truth.
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("id", "string", False),
    ("origin", "string", False),
    ("source", "string", False),
    ("score", "float64", True),
    ("spun", "bool", True),
    ("n_spans", "int32", False),
    ("top_spans", "string", False),
    ("n_suspects", "int32", False),
    ("top_suspects", "string", False),
    ("evidence", "string", False),
    ("language", "string", False),
    ("length", "int64", False),
    ("elapsed_s", "float64", False),
    ("error", "string", True),
    ("mode", "string", False),
)

NAMES: tuple[str, ...] = tuple(c[0] for c in COLUMNS)

#: Columns that legitimately differ between two runs over the same input.
NONDETERMINISTIC = ("elapsed_s",)


def arrow_schema() -> Any:
    """The pyarrow schema (pyarrow is imported lazily)."""
    import pyarrow as pa

    types = {"string": pa.string(), "float64": pa.float64(), "bool": pa.bool_(),
             "int32": pa.int32(), "int64": pa.int64()}
    return pa.schema([pa.field(n, types[t], nullable=nullable) for n, t, nullable in COLUMNS])


def spark_schema() -> Any:
    """The same schema as a Spark ``StructType`` (pyspark imported lazily)."""
    from pyspark.sql import types as T

    types = {"string": T.StringType(), "float64": T.DoubleType(), "bool": T.BooleanType(),
             "int32": T.IntegerType(), "int64": T.LongType()}
    return T.StructType([T.StructField(n, types[t], nullable) for n, t, nullable in COLUMNS])


def to_table(rows: list[dict[str, Any]]) -> Any:
    """Rows (dicts keyed by :data:`NAMES`) as a pyarrow Table with the schema."""
    import pyarrow as pa

    schema = arrow_schema()
    return pa.Table.from_pydict({n: [r[n] for r in rows] for n in NAMES}, schema=schema)
