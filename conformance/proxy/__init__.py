"""`contract proxy`: live traffic forwarded unchanged and judged by `contract conform`'s checks."""
