"""HTTP service: a FastAPI app answering recommendations with explanations, and a web page."""
