"""The scan as a Spark job, in Common Crawl's cc-pyspark pattern.

Input is one or more paths; a ``.lst``/``.paths`` file lists input paths, one
a line (the way Common Crawl publishes ``warc.paths``). The driver expands the
inputs and plans units exactly like the local scan (:mod:`unspin.scan.plan`),
then fans the tasks out as an RDD, consecutive tasks grouped into at most four
partitions a core (``PARTITIONS_PER_CORE``). Each Spark task
opens whole files and iterates records with the same reader
(:func:`unspin.io.records.iter_file`), calls the same core through
:func:`unspin.scan.rows.analyze_record`, and the rows are written as Parquet
with the same schema (:func:`unspin.scan.schema.spark_schema`). So a local scan
and a Spark scan of the same inputs give the same rows (``elapsed_s`` aside).

Resources load once per executor Python worker: :func:`partition_rows` calls
:func:`unspin.scan.worker.warm`, whose module-level cache survives between
tasks because Spark reuses Python workers (``spark.python.worker.reuse``, on by
default). The n-gram model and inverse index are memory-mapped from the
resource cache directory, so workers on one machine share pages.

**Getting the cache to executors.** Build it once (``unspin resources build
--cache DIR``) and either

* put it on a path every node sees (EMR: an EFS/FSx mount or a bootstrap
  action that copies it from S3; Dataproc: an initialization action; Databricks:
  ``/dbfs/...`` or a Unity Catalog volume) and set ``UNSPIN_CACHE`` for
  executors: ``--conf spark.executorEnv.UNSPIN_CACHE=/mnt/unspin-cache``
  (Databricks: cluster environment variable), or
* ship it as an archive: ``tar czf unspin-cache.tgz -C DIR .`` then
  ``spark-submit --archives s3://bucket/unspin-cache.tgz#unspin-cache
  --conf spark.executorEnv.UNSPIN_CACHE=./unspin-cache ...``; YARN unpacks it
  in each executor's working directory.

The unspin package itself reaches executors as a wheel installed on the nodes
(bootstrap/init action, Databricks library) or with ``--py-files``.

Inputs must be readable by executors under the same path (a shared file
system). Run with ``spark-submit``::

    spark-submit --driver-java-options "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC" \\
        -m unspin.scan.spark warc.paths --out s3://bucket/scan/   # or:
    python -m unspin.scan.spark INPUT... --out DIR [--master local[2]]

or ``unspin scan --engine spark``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from unspin.config import Config
from unspin.scan.plan import DEFAULT_BATCH, Unit, group_tasks, plan_units
from unspin.scan.schema import NAMES
from unspin.scan.worker import iter_rows

#: Spark partitions per core the job is given. Each partition costs about 80 ms
#: of scheduling, Python hand-off and one Parquet part on local[2], whatever it
#: holds: with one planned task a partition, 2,000 news stories in tasks of 25
#: took 8.4-9.3 s once the workers were warm, and 3.0-3.3 s in 8 partitions
#: (BENCHMARKS.md, Scan). Four waves a core still let a fast core take over
#: a slow one's share.
PARTITIONS_PER_CORE = 4

#: Java options that make a short local driver start faster (C1 only, serial GC).
DRIVER_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def partition_rows(tasks: Iterable[tuple[int, list[tuple[str, int, int]]]], config: Config,
                   text_field: str, id_field: str) -> Iterator[tuple[Any, ...]]:
    """``mapPartitions`` body: rows (as tuples in schema order) of the tasks given."""
    for _, ranges in tasks:
        units = [Unit(p, s, e) for p, s, e in ranges]
        for row in iter_rows(units, config, text_field, id_field):
            yield tuple(row[n] for n in NAMES)


def spark_session(master: str = "local[2]", app_name: str = "unspin-scan") -> Any:
    """A SparkSession with the fast-start driver options (reuses an active one)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = (SparkSession.builder.master(master).appName(app_name)
               .config("spark.driver.extraJavaOptions", DRIVER_JAVA_OPTIONS)
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.python.worker.reuse", "true"))
    if os.environ.get("UNSPIN_CACHE"):
        builder = builder.config("spark.executorEnv.UNSPIN_CACHE", os.environ["UNSPIN_CACHE"])
    return builder.getOrCreate()


def run_job(spark: Any, inputs: Sequence[str], out_dir: str, config: Config, *,
            batch_size: int = DEFAULT_BATCH, text_field: str = "text",
            id_field: str = "id") -> int:
    """Plan, fan out, analyse and write Parquet; returns the number of tasks."""
    from functools import partial

    from unspin.scan.schema import spark_schema

    units = plan_units(inputs, batch_size, text_field, id_field)
    tasks = [(i, [[u.path, u.start, u.stop] for u in t])
             for i, t in enumerate(group_tasks(units, batch_size))]
    # consecutive tasks share a partition, at most PARTITIONS_PER_CORE waves of them
    n = max(1, min(len(tasks), PARTITIONS_PER_CORE * spark.sparkContext.defaultParallelism))
    rdd = spark.sparkContext.parallelize(tasks, n)
    rows = rdd.mapPartitions(partial(partition_rows, config=config, text_field=text_field,
                                     id_field=id_field))
    df = spark.createDataFrame(rows, schema=spark_schema())
    df.write.mode("overwrite").option("compression", "zstd").parquet(out_dir)
    return len(tasks)


def scan_spark(inputs: Sequence[str], out_dir: str | Path, config: Config, *,
               master: str = "local[2]", batch_size: int = DEFAULT_BATCH,
               text_field: str = "text", id_field: str = "id") -> Any:
    """The Spark engine behind ``unspin scan --engine spark``; returns a ScanResult."""
    from unspin.errors import InputError
    from unspin.report.summary import summarize
    from unspin.scan.local import SUMMARY, ScanResult, exit_code_for
    from unspin.scan.manifest import read_rows, write_atomic

    if not inputs:
        raise InputError("no inputs: give files, folders or a .lst/.paths listing")
    out = Path(out_dir)
    t0 = time.perf_counter()
    spark = spark_session(master)
    t1 = time.perf_counter()
    n_tasks = run_job(spark, inputs, str(out), config, batch_size=batch_size,
                      text_field=text_field, id_field=id_field)
    t2 = time.perf_counter()
    summary = summarize(read_rows(out))
    summary.update({"engine": "spark", "master": master, "inputs": list(inputs),
                    "tasks": n_tasks,
                    "this_run": {"session_s": round(t1 - t0, 3), "job_s": round(t2 - t1, 3)}})
    code = exit_code_for(summary)
    summary["exit_code"] = code
    write_atomic(out / SUMMARY, (json.dumps(summary, indent=2, sort_keys=True) + "\n")
                 .encode("utf-8"))
    return ScanResult(out, summary, code, {"session_s": t1 - t0, "job_s": t2 - t1})


def main(argv: list[str] | None = None) -> int:
    """``python -m unspin.scan.spark INPUT... --out DIR`` (also under spark-submit)."""
    ap = argparse.ArgumentParser(prog="unspin.scan.spark", description=__doc__.split("\n")[0])
    ap.add_argument("inputs", nargs="+", help="files, folders or .lst/.paths listings")
    ap.add_argument("--out", required=True, help="output folder (Parquet)")
    ap.add_argument("--master", default=os.environ.get("UNSPIN_SPARK_MASTER", "local[2]"))
    ap.add_argument("--mode", default="screen", choices=("screen", "full"))
    ap.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    ap.add_argument("--text-field", default="text")
    ap.add_argument("--id-field", default="id")
    ap.add_argument("--cache", default=None, help="resource cache directory")
    args = ap.parse_args(argv)
    result = scan_spark(args.inputs, args.out, Config(mode=args.mode, cache_dir=args.cache),
                        master=args.master, batch_size=args.batch_size,
                        text_field=args.text_field, id_field=args.id_field)
    s = result.summary
    print(f"unspin scan (spark): {s['records']} records, {s['errors']} errors, "
          f"{s['spun']} spun -> {result.out_dir}", file=sys.stderr)
    return int(result.exit_code)


if __name__ == "__main__":
    sys.exit(main())
