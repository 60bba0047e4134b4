"""xAPI statements for CX Academy and the one HTTP client that sends them.

A library: imports neither Flask, Celery, SQLAlchemy nor pylti1p3.

- ``vocabulary``: every IRI we use (verbs, activity types, extensions, our profile).
- ``events``: the domain events the app records for every learner action.
- ``statements``: events to xAPI 1.0.3 statements, with deterministic ids.
- ``validation``: our strict xAPI 1.0.3 checks, the gate before sending.
- ``summary``: a statement cut down to the members progress counting reads.
- ``lrs``: the only HTTP code, an LRS client that reports normalised outcomes.
- ``equivalence``: whether the LRS's copy of a statement is ours (after a 409).
- ``profile``: our xAPI Profile document (``profile.jsonld``).
- ``errors``: the package's exceptions, all subclasses of ``XapiError``.
"""
