"""Scanning many documents: the same core mapped over records, locally or on Spark.

* :mod:`unspin.scan.schema` — the one row schema (pyarrow, and its Spark twin).
* :mod:`unspin.scan.rows` — record → row (calls :func:`unspin.core.analyze`).
* :mod:`unspin.scan.plan` — inputs → files → units (chunks of N records) → tasks.
* :mod:`unspin.scan.manifest` — the fsync'ed JSON-lines log that makes a local
  scan resumable after ``kill -9``.
* :mod:`unspin.scan.local` — the process-pool scan behind ``unspin scan``.
* :mod:`unspin.scan.spark` — the same job on Spark (cc-pyspark pattern).

None of these import pyspark, pyarrow or rich at package import time.
"""
