"""Reading a contract: load, bundle, resolve, validate.

The bottom layer: generation, diff and conformance read specs through it; it imports none of them.
"""
