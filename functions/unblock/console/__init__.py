"""The staff console's pages: views (HTML as plain functions over cases), stats and SVG charts,
and the static script and stylesheet (static/) the ConsoleFunction serves."""
