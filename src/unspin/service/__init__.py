"""HTTP service and web page (the ``[service]`` extra: fastapi, uvicorn, trafilatura, pypdf).

Import :func:`unspin.service.app.create_app` explicitly; ``import unspin``
never imports this package. Start it with ``unspin serve`` (docs/service.md).
"""
