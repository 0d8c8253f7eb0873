"""Payloads: a client's raw JSON read into frozen drafts the services take (parsing apart from writing).

A payload module checks that the data can be stored at all (types, required fields, column limits, rows
that name each other) and reports every problem at once; the service then checks the business rules
and writes. Here rather than in a door because more than one door reads the same payload (the /V1
import routes, the demo loader, the benchmarks' seeding).
"""
