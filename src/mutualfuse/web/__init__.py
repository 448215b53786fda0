"""``mutualfuse serve``: a local web page to fuse and compare pairs in the browser.

:mod:`.core` does the work with the library (no Gradio needed, tested directly); :mod:`.app`
lays out the Gradio page (the ``web`` extra); :mod:`.server` starts it offline on 127.0.0.1
and removes its temporary folder when it stops. See docs/web.md.
"""
