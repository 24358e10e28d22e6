"""The catalogue: a library of issue folders → a static site for readers.

`library` finds the issues and fingerprints each one's sources, layouts and fonts; `publish`
builds one issue's outputs (run wherever the executor puts it: this process's pool or a Dask
worker); `site` decides what to rebuild, gathers the results and writes the pages (`pages`),
the OPDS feeds (`opds`) and the annual indexes (`annual`); `executors` provides the pool or the
Dask client.
"""
