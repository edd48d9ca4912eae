"""One module per ljfit command."""
