"""Render docs/serve.png: the web page of `whyrec serve` for a real bundle, in headless Chromium.

    python docs/screenshot.py benchmarks/.cache/amazon-magazine-subscriptions [--user ID]
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    import uvicorn
    from playwright.sync_api import sync_playwright

    from whyrec.serve.app import create_app, server_config
    from whyrec.serve.systems import ServedSystem

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--user", default=None, help="user to show (default: the one with most reviews)")
    parser.add_argument("--out", type=Path, default=HERE / "serve.png")
    args = parser.parse_args()
    system = ServedSystem.from_folder(args.bundle)
    user = args.user or max(system.user_ids, key=lambda u: len(system.history(u)))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(server_config(create_app([system]), "127.0.0.1", port))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("#users li")
        page.fill("#user-search", user)
        page.wait_for_selector(f'#users li[data-user="{user}"]')
        if page.locator('#explainer option[value="all"]').count():  # several explainers (MT): side by side
            page.select_option("#explainer", "all")
        page.click(f'#users li[data-user="{user}"]')
        page.wait_for_selector("article.card .explanation")
        page.locator("#history li").first.click()  # a rated item: its rating given beside the one predicted
        page.wait_for_selector("#past .card .explanation")
        page.screenshot(path=str(args.out), full_page=False)
        browser.close()
    server.should_exit = True
    print(f"wrote {args.out} ({user})")


if __name__ == "__main__":
    main()
