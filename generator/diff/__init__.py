"""`contract diff`: compare two contracts and classify every change."""
