"""Custom Rasa components, imported only by the Rasa server in .venv-rasa (Python 3.10).

The app never imports this package: it needs `rasa`, which lives only in .venv-rasa. config.yml names
the components by module path; nlu/rasa.py puts the repository on the Rasa server's PYTHONPATH.
"""
