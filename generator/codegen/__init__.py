"""Generation: the IR, models (datamodel-code-generator), Jinja2 rendering and atomic output."""
