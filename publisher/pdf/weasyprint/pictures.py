"""Pictures as WeasyPrint gets them: in sRGB (`publisher.pdf.pictures.in_srgb`), and named by
their contents. WeasyPrint names each picture in the PDF after its URL, a `file:` URL that holds
the folder the issue was built in: the same sources built in another folder would give other
bytes. A raster picture is handed to WeasyPrint under a name made from its bytes; a drawing
(SVG) keeps its URL, against which it finds what it refers to."""

from __future__ import annotations

import hashlib
from pathlib import Path


def install():
    """Patch WeasyPrint's picture loading; return what undoes it."""
    from weasyprint import document

    original = document.original_get_image_from_uri

    def named_by_contents(cache, url_fetcher, options, url, forced_mime_type=None,
                          context=None, orientation="from-image"):
        from urllib.parse import urlsplit
        from urllib.request import url2pathname

        from weasyprint.urls import URLFetcherResponse, URLFetchingError, fetch

        from publisher.pdf.pictures import in_eight_bits, in_srgb, picture_problem
        from publisher.source.load import picture_format

        if url in cache or not url.startswith("file:"):
            return original(cache, url_fetcher, options, url, forced_mime_type, context,
                            orientation)
        try:
            with fetch(url_fetcher, url) as response:
                data, media_type = response.read(), response.content_type
        except URLFetchingError:  # WeasyPrint fetches it again, and says why it failed
            return original(cache, url_fetcher, options, url, forced_mime_type, context,
                            orientation)
        if (forced_mime_type or media_type) == "image/svg+xml" or data.lstrip()[:1] == b"<":
            return original(cache, url_fetcher, options, url, forced_mime_type, context,
                            orientation)
        kind = picture_format(Path(url2pathname(urlsplit(url).path)))
        if problem := picture_problem(data, kind):
            # The build stops on it at the layout's line (`refuse_fetched`), as WeasyPrint
            # would have left the picture out with a warning of its own.
            url_fetcher.unreadable[url] = problem
            cache[url] = None
            return None
        data = in_eight_bits(in_srgb(data, kind), kind)
        named = f"publisher-picture:{hashlib.sha256(data).hexdigest()}"
        image = original(cache, lambda _: URLFetcherResponse(named, data,
                                                             {"Content-Type": media_type}),
                         options, named, forced_mime_type, context, orientation)
        cache[url] = image
        return image

    document.original_get_image_from_uri = named_by_contents

    def restore() -> None:
        document.original_get_image_from_uri = original

    return restore
