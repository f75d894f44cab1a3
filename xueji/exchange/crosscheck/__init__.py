"""Admission vs registration cross-check (录取数据与学籍数据比对).

An admission data set (`AdmissionBatch` with its `AdmissionRecord` rows) is loaded from rows,
compared field by field with the registered students by a job (`crosscheck.run`), and every
difference becomes a `Discrepancy` in a queue that the registrar and college admins settle.
"""
