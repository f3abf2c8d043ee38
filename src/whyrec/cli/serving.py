"""``whyrec serve`` (HTTP API and web page) and ``whyrec demo`` (the main job)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from whyrec.cli.common import app
from whyrec.cli.inputs import chosen_split_dir, history_of, load_reviews, make_split, split_line
from whyrec.cli.option_checks import check_data_read, check_out, checked_root_path, given_on_command_line
from whyrec.cli.options import ColumnMap, HistorySeed, HistorySplit, MaxRating, MetaFile, MinRating, ReaderFormat
from whyrec.cli.output import console, note_random_word_vectors, print_table, save_results, status
from whyrec.systems.mt_progress import mt_epoch_text
from whyrec.wording import counted, rating_text


@app.command("serve")
def serve(
    context: typer.Context,
    bundles: list[Path] = typer.Argument(..., help="Bundle folder(s) written by `whyrec train` (the first is the default)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port."),
    cache: int = typer.Option(20000, min=0, help="Explanations (and users' item scores) kept in LRU caches per "
                              "bundle (0: none)."),
    threads: int = typer.Option(1, min=1, help="torch CPU threads (per worker)."),
    workers: int = typer.Option(1, min=1, max=64, help="Server processes sharing the port, forked after loading "
                                "(CPU only; each keeps its own caches, and /metrics counts them all): one "
                                "process's threads share Python's lock, so under concurrent load more than one "
                                "uses more cores."),
    balance: bool = typer.Option(True, "--balance/--no-balance", help="With --workers: a worker holding two "
                                 "keep-alive connections more than another closes one after its answer "
                                 "(Connection: close), so that the client's next one may go to another worker; "
                                 "clients that connect at once are otherwise split as the kernel hands them out, "
                                 "and stay so."),
    max_in_flight: int = typer.Option(0, "--max-in-flight", min=0, help="The most requests for recommendations "
                                      "or explanations a worker answers at once; past it, a JSON 503 with "
                                      "Retry-After at once (0: no limit, every request waits its turn)."),
    root_path: str = typer.Option("", "--root-path", help="The path a reverse proxy serves whyrec under "
                                  "(/whyrec), when it takes it off before passing requests on: the API docs "
                                  "then load through the proxy. The page needs none."),
    cors_origin: Optional[list[str]] = typer.Option(None, "--cors-origin", help="An origin whose pages may call "
                                                    "the API from a browser, as http://localhost:3000 (repeatable; * "
                                                    "for any). The page served at / needs none."),
    access_log: bool = typer.Option(False, "--access-log", help="A line per request on stderr: time, process, "
                                    "method, path, status, milliseconds."),
    device: str = typer.Option("cpu", "--device", help="torch device of the MT / PETER bundles: cpu, cuda, cuda:N, "
                               "mps, auto."),
    data: Optional[Path] = typer.Option(None, "--data", help="For rating-model bundles, which keep no training data: "
                                        "the data they were trained on (its train part), so that users' past items "
                                        "are not recommended again and ALS ratings are split over them."),
    split: HistorySplit = None,
    seed: HistorySeed = None,
    format: ReaderFormat = None,
    column: ColumnMap = None,
    meta: MetaFile = None,
    min_rating: MinRating = 1.0,
    max_rating: MaxRating = 5.0,
) -> None:
    """Serve recommendations with explanations over HTTP, and the web page at /."""
    import torch
    import uvicorn

    from whyrec.devices import resolve_device
    from whyrec.serve.app import create_app, freeze_startup_objects, listening_socket, server_config
    from whyrec.serve.connection_balance import ConnectionBalance, uvicorn_connections
    from whyrec.serve.cross_origin import checked_origins
    from whyrec.serve.systems import ServedSystem
    from whyrec.serve.workers import check_workers, run_workers

    resolved = resolve_device(device)
    check_workers(workers, resolved)
    root_path = checked_root_path(root_path)
    origins = checked_origins(cors_origin or [])
    with listening_socket(host, port) as sock:  # an address it cannot listen on is refused before loading
        torch.set_num_threads(threads)
        history = history_of(context)
        systems = [ServedSystem.from_folder(b, cache, resolved, history) for b in bundles]
        names = [s.name for s in systems]
        check_data_read(data, {s.name: s.model for s in systems})
        if len(set(names)) != len(names):
            from whyrec.errors import ConfigError

            raise ConfigError(f"two bundles share a name ({names}); rename a folder")
        port = sock.getsockname()[1]  # --port 0: the free one bound
        shown_host = f"[{host}]" if ":" in host else host  # an IPv6 address, as a URL writes it
        by = f", {workers} worker processes" if workers > 1 else ""
        console().print(f"serving {', '.join(names)} on http://{shown_host}:{port}/ (API docs at /docs{by})")
        app = create_app(systems, workers=workers, max_in_flight=max_in_flight, access_log=access_log,
                         cors_origins=origins)
        if access_log:
            show_access_log()
        for system in systems:  # made once here, not in each worker at its first search
            system.prepare_searches()
        # the collector's full passes over them made the latency's tail; frozen, they are not written
        # either, so forked workers keep sharing their pages
        freeze_startup_objects()

        def serve_one(number: int = 0) -> None:
            app.state.server_metrics.take_slot(number)
            server = uvicorn.Server(server_config(app, host, port, root_path))
            app.state.connection_balance = ConnectionBalance(app.state.server_metrics, uvicorn_connections(server),
                                                             closing=balance)
            server.run(sockets=[sock])

        if workers == 1:
            serve_one()
        else:
            run_workers(serve_one, workers, say=lambda text: console().print(text, highlight=False))


def show_access_log() -> None:
    """Send ``whyrec.serve.access``'s lines to stderr, each with its time and process."""
    import logging
    import sys

    from whyrec.serve.app import ACCESS_LOG

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s [%(process)d] %(message)s"))
    ACCESS_LOG.setLevel(logging.INFO)
    ACCESS_LOG.addHandler(handler)
    ACCESS_LOG.propagate = False


DEMO_DATASET = "amazon-magazine-subscriptions"


def shared_demo_data() -> Path | None:
    """The data ``whyrec demo`` runs on without ``--data``: the amazon-magazine-subscriptions folder
    of the shared datasets — ``$WHYREC_SHARED_DATA``, else ``../shared/data`` from the current
    directory (beside the checkout, where the README's commands run) — when it is there, else
    None (the demo then plants a corpus of its own)."""
    folder = shared_demo_folder()
    return folder if folder.is_dir() else None


def shared_demo_folder() -> Path:
    """Where :func:`shared_demo_data` looks for the demo's data, there or not."""
    return Path(os.environ.get("WHYREC_SHARED_DATA") or Path("..") / "shared" / "data") / DEMO_DATASET


@app.command("demo")
def demo(
    context: typer.Context,
    data: Optional[Path] = typer.Option(None, "--data", help=f"Review file or folder (default: {DEMO_DATASET} of "
                                        "the shared data, $WHYREC_SHARED_DATA or ../shared/data, when it is there; "
                                        "else a planted corpus)."),
    planted: bool = typer.Option(False, "--planted", help="Run on a planted corpus, even where the shared data is."),
    split: Optional[Path] = typer.Option(None, "--split", help="Split folder (default: <data>/1 when present)."),
    out: Path = typer.Option(Path("runs/demo"), "--out", help="Where to write the results table and plot."),
    seed: Optional[int] = typer.Option(None, min=0, help="Seed of the planted corpus, and of a random split, "
                                       "drawn even where the data folder has fixed splits (default: its split 1, "
                                       "else seed 0); not with --split."),
    format: ReaderFormat = None,
    column: ColumnMap = None,
    skip_mt: bool = typer.Option(False, "--skip-mt", help="Only the rating comparison."),
    min_rating: MinRating = 1.0,
    max_rating: MaxRating = 5.0,
) -> None:
    """The main job: compare the rating models, train a small MT, print explanations."""
    from whyrec.errors import ConfigError

    if planted and data is not None:
        raise ConfigError("give either --data or --planted")
    shared = None if planted or data is not None else shared_demo_data()
    data = data or shared
    unread = given_on_command_line(context, "split", "format", "column", "min_rating", "max_rating")
    if data is None and unread:  # a planted corpus is made, not read
        why = "--planted" if planted else "no --data, and no shared data"
        raise ConfigError(f"{' and '.join(unread)} say{'s' if len(unread) == 1 else ''} how to read review data, and "
                          f"the demo makes a planted corpus ({why}): give --data")
    split_dir = chosen_split_dir(data, split, seed)  # --split with --seed: refused before any work
    check_out(out, data)
    from whyrec.data.features import FeatureExtractor, coverage, given_features
    from whyrec.data.synthetic import make_planted_corpus
    from whyrec.experiment import Experiment
    from whyrec.rating import PMF, BiasBaseline, BiasedMF, ContextAwareALS, GlobalAverage

    con = console()
    if data is None:
        corpus = make_planted_corpus(seed=seed or 0).corpus
        absent = f"no --data given, and no shared data at {shared_demo_folder()}"  # where it looked
        con.print(f"{'--planted' if planted else absent}: using a planted corpus of "
                  f"{len(corpus):,} reviews "
                  f"({corpus.reviews['user'].nunique()} users, {corpus.reviews['item'].nunique()} items)")
        split_dir = None  # a --split names positions in a file, which a planted corpus has not
    else:
        if shared is not None:
            con.print(f"no --data given: using the shared data's {shared} (--planted: a planted corpus instead)")
        corpus = load_reviews(data, format, column, False, "keep-all" if split_dir else "keep-last",
                              (min_rating, max_rating))
    parts = make_split(corpus, split_dir, seed or 0, data)
    con.print(split_line(parts))
    systems = {
        "global average": GlobalAverage(),
        "bias baseline": BiasBaseline(),
        "biased MF (SGD)": BiasedMF(),
        "PMF (ALS)": PMF(),
        "context-aware ALS": ContextAwareALS(),
    }
    with status(con, "training") as line:
        table = Experiment(parts, systems, on_progress=lambda msg: line.update(f"training: {msg}")).run()
    title = f"rating prediction on {corpus.name}"
    print_table(table, title)
    save_results(table, out, title, data, [parts])
    if corpus.ratings_only:
        con.print("the data holds ratings only: no features to extract, and no MT, which explains from review "
                  "text (--column text=NAME names the text column of a table)", highlight=False)
        return
    feats = given_features(parts.train)  # a PETER pickle's own, else extracted
    how = "the data's own quadruples" if feats is not None else "feature extraction"
    feats = feats if feats is not None else FeatureExtractor(min_df=3).extract(parts.train)
    con.print(f"{how}: {coverage(feats, parts.train):.1%} of training reviews covered; examples:")
    for row in feats.head(3).itertuples():
        con.print(f"  [{rating_text(row.rating, corpus.rating_scale[1])}] {row.feature} / {row.opinion} "
                  f"({row.sentiment:+d}): {row.sentence}", highlight=False)
    if not skip_mt:
        als = next(r for r in table.results if r.system == "context-aware ALS")
        _demo_mt(parts, feats if data is None else None, con, als.params, als.mean("rmse"))


def _demo_mt(parts, features, con, als_params: dict, als_rmse: float) -> None:
    """Train a small MT, with the rating settings of the table's context-aware ALS (so the two
    RMSEs differ by what the review text adds), and show its explanations next to its ratings."""
    import torch

    from whyrec.explain.embeddings import word_vectors_text
    from whyrec.explanations import generate, shown, word_limit
    from whyrec.metrics.rating import rmse
    from whyrec.systems.mt import MultiTask

    torch.set_num_threads(1)
    rating = {"factors": als_params["factors"], "lambda_u": als_params["lambda_u"], "lambda_v": als_params["lambda_v"],
              "lambda_bias": als_params["lambda_bias"], "als_sweeps": als_params["iterations"]}
    mt = MultiTask(epochs=4, adversarial_from=3, vocab_size=2000, encoder_hidden=32, decoder_hidden=64,
                   pg_steps=2, d_steps=4, **rating)
    note_random_word_vectors(mt.config, settable=False)
    with status(con, "training MT (context-aware ALS + adversarial GRU explanations)") as line:
        mt.fit(parts.train, parts.valid if len(parts.valid) else None, features,
               on_epoch=lambda r: line.update(f"training MT: epoch {r['epoch']}/4, {mt_epoch_text(r)}"))
    test = parts.test
    every = mt.predict_corpus(test)
    con.print(f"MT test RMSE {rmse(every, test.ratings):.4f}, context-aware ALS with the same "
              f"settings and no text {als_rmse:.4f} (word vectors: {word_vectors_text(mt.word_vector_info)})",
              highlight=False)
    written = generate(mt, "pair", list(test.users), list(test.items))  # as `whyrec explain` shows them
    shown_at = demo_examples(every)  # the highest and the lowest predictions: does the text follow them?
    users, items = [test.users[k] for k in shown_at], [test.items[k] for k in shown_at]
    predicted, truth = every[shown_at], test.ratings[shown_at]
    top, limit = test.rating_scale[1], word_limit(mt)
    for variant, label in (("pair", "MT-P"), ("user", "MT-U"), ("item", "MT-I")):
        if variant == "pair":
            at, texts = list(range(len(users))), [written[k] for k in shown_at]
        else:  # MT-U and MT-I at the two ends
            at = sorted({0, len(users) - 1})
            texts = generate(mt, variant, [users[k] for k in at], [items[k] for k in at])
        for k, text in zip(at, texts):
            quoted = f"“{shown(text, limit)}”" if text.strip() else shown(text)
            con.print(f"  {label} {users[k]} → {items[k]}: predicted {rating_text(predicted[k], top, 2)} "
                      f"(true {rating_text(truth[k], top)}) {quoted}", highlight=False)
    con.print(f"  MT-P's greedy explanations of the {counted(len(test), 'test record')}: "
              f"{counted(len(set(written)), 'distinct sentence')} (greedy decoding writes each context's likeliest "
              "words; `whyrec explain --method sample` draws varied ones)", highlight=False)


def demo_examples(predicted, each: int = 3) -> list[int]:
    """The positions of the ``each`` highest predicted ratings, then of the ``each`` lowest (fewer
    when there are not that many), so that the demo's explanations span the predictions."""
    import numpy as np

    order = np.argsort(-np.asarray(predicted, dtype=np.float64), kind="stable").tolist()
    highest = order[:each]
    return highest + [k for k in order[::-1][:each] if k not in highest]
