"""An RTSP server for the collector tests: GStreamer's gst-rtsp-server (Debian's library, through its GObject
bindings), serving a test pattern at /test. Run with Debian's python3: ``python3 rtsp_server.py IP PORT``."""

from __future__ import annotations

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def serve(ip: str, port: int) -> None:
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(ip)
    server.set_service(str(port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch("( videotestsrc is-live=true ! rtpvrawpay name=pay0 pt=96 )")
    server.get_mount_points().add_factory("/test", factory)
    server.attach(None)
    GLib.MainLoop().run()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
