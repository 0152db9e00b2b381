"""The request: what a search is on its way from a URL, a command-line option, a client call or a web form to an
engine. Below ``api/``, ``cli/`` and ``web/``, above ``store/``:

    params.py     every parameter, declared once (``Param``), and the sets routes and commands take
    selection.py  ``Selection``: what selects reports, typed; it becomes the store's ``Filters``
    reading.py    the rest of a request: a summary, an open-port query, the types an expression may name
    answers.py    the API's answers as typed values (pages, summaries, open ports, bodies)
    export.py     every match as NDJSON or CSV bytes
"""
