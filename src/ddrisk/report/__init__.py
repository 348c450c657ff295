"""Tables, figures and HTML/Markdown/JSON reports."""
