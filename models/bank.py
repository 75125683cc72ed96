"""Hand-written examples beyond the per-call ones: multi-step plans, follow-ups, refusals.

A shot whose calls or arguments do not validate against the live registry is
dropped by ``examples.build_bank``, so this bank never proposes a stale shape.
"""

from __future__ import annotations

from models.examples import Shot

BANK: tuple[Shot, ...] = (
    # multi-step: find then act on every row
    Shot("find the .tmp files under build and delete them",
         (("fs.find", {"path": "build", "name": "*.tmp"}), ("fs.delete", {"path": "$0.path"}))),
    Shot("remove all log files older than 30 days in /srv/logs",
         (("fs.find", {"path": "/srv/logs", "name": "*.log", "mtime_min_days": 30}),
          ("fs.delete", {"path": "$0.path"}))),
    Shot("delete every empty directory below projects",
         (("fs.find", {"path": "projects", "type": "dir", "empty": True}),
          ("fs.delete", {"path": "$0.path"}))),
    Shot("make all shell scripts in bin executable",
         (("fs.find", {"path": "bin", "name": "*.sh"}), ("fs.chmod", {"path": "$0.path", "mode": "u+x"}))),
    Shot("stop whatever is listening on port 5432",
         (("proc.port", {"port": 5432}), ("proc.signal", {"pid": "$0.pid", "signal": "TERM"}))),
    Shot("kill the process using port 3000",
         (("proc.port", {"port": 3000}), ("proc.signal", {"pid": "$0.pid", "signal": "TERM"}))),
    Shot("terminate all processes named sleep",
         (("proc.list", {"name": "sleep"}), ("proc.signal", {"pid": "$0.pid", "signal": "TERM"}))),
    Shot("count the lines of every python file in src",
         (("fs.find", {"path": "src", "name": "*.py"}), ("fs.wc", {"path": "$0.path"}))),
    # follow-ups on the previous result
    Shot("now delete them", (("fs.delete", {"path": "$prev.path"}),), previous="fs.find"),
    Shot("remove those files", (("fs.delete", {"path": "$prev.path"}),), previous="fs.find"),
    Shot("kill it", (("proc.signal", {"pid": "$prev.pid", "signal": "TERM"}),), previous="proc.port"),
    Shot("stop those processes", (("proc.signal", {"pid": "$prev.pid", "signal": "TERM"}),),
         previous="proc.list"),
    Shot("show me the first one", (("fs.read", {"path": "$prev.path"}),), previous="fs.find"),
    Shot("how big are they", (("fs.stat", {"path": "$prev.path"}),), previous="fs.find"),
    # refusals: nothing in the call set can do these
    Shot("reboot the machine", (("answer", {"text": "Rebooting is not supported.", "supported": False}),)),
    Shot("install the latest version of nginx",
         (("answer", {"text": "Installing packages is not supported.", "supported": False}),)),
    Shot("change the group of report.txt to staff",
         (("answer", {"text": "Changing file groups is not supported.", "supported": False}),)),
    Shot("configure eth0 with address 10.0.0.2",
         (("answer", {"text": "Configuring network interfaces is not supported.", "supported": False}),)),
)
