"""Payment records, payment methods and (with the payments issue) gateway adapters.

A leaf app: it never imports ``sales``; it refers to orders through the string reference
``"sales.Order"`` and answers with plain values that the sales services apply.
"""
