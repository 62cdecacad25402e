"""The control panel: a local web page that shows a run's output and changes its settings live.

``livefake live --ui`` (and ``demo --ui``) serve it; see ``livefake.ui.server.open_panel``. The
page, its static files (uPlot, MIT, vendored with its licence) and the HTTP API it uses
(``livefake.ui.app``) all go through one object, ``livefake.ui.panel.Panel``, and every change
through ``Pipeline.update``. Needs the ``ui`` extra: ``pip install 'livefake[ui]'``.
"""
