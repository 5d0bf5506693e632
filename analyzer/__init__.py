"""cfcompat analyzer: discovery, parsing, manifests, engine, assessment, CLI."""

__version__ = "0.1.0"
