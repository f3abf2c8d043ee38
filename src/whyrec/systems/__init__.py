"""Systems: recipes wiring a rating model, an explainer and an alignment objective."""
