"""One file layer: a reader and a writer per format, shared by every command."""
