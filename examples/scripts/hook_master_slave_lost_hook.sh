#!/bin/sh
# hook_master_slave_lost_hook: tells someone an agent was lost.
#
# Runs in the MASTER when it marks an agent lost, after every framework was
# told.
#
# Input ($1, also on stdin): {"slave_info": SlaveInfo}
# Output: none (the output file is not read).
#
# Whatever a command prints on stdout or stderr goes to the log of the
# process that loaded the module (here the master's), prefixed with
# [module_name method]. A non-zero exit is logged as a warning; nothing else
# happens.
set -eu

echo "agent lost: $(cat "$1")"
