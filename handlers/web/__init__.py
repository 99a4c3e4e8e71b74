"""The staff web console: a face of the register like Telegram, in a browser.

`app.create_app` builds the ASGI application; `bot/web.py` runs it. Pages live one router a
module in `pages/`, templates in `templates/`, CSS and scripts in `static/`.
"""
