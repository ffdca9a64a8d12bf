# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_kruise_global_optspecs
    string join \n kubeconfig= context= cluster= user= n/namespace= request-timeout= as= as-group= s/server= token= certificate-authority= tls-server-name= insecure-skip-tls-verify v/v= y/yes h/help V/version
end

function __fish_kubectl_kruise_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_kruise_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_kruise_using_subcommand
    set -l cmd (__fish_kubectl_kruise_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -f -a "version" -d 'Print the client and server versions, and which Kruise operators and CRDs the cluster has'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -f -a "rollout" -d 'Manage the rollout of a workload or a Kruise Rollout: approve, pause, resume, restart, status, history, undo'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -f -a "crds" -d 'Install, inspect and compare the Kruise CRDs (for clusters without the operator)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -f -a "get" -d 'Show an object as a tree: workload → revisions → pods, or Rollout → steps → pods'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -f -a "describe" -d 'Show an object\'s tree with its conditions and latest events'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -f -a "scale" -d 'Set the number of replicas, deleting chosen pods first'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -f -a "set" -d 'Change a workload: images (in place for CloneSet)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -f -a "controller" -d 'Run the embedded controllers (CloneSet, Advanced StatefulSet and DaemonSet, Kruise Rollout) for clusters without the operator'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -f -a "completion" -d 'Write the shell completion script (bash, zsh, fish, powershell)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand version" -s o -l output -d 'Output format: json or yaml' -r -f -a "json\t''
yaml\t''"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand version" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand version" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand version" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand version" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand version" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand version" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand version" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand version" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand version" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand version" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand version" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand version" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand version" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand version" -l client -d 'Print the client version only (no request to the cluster)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand version" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand version" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand version" -s h -l help -d 'Print help'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand version" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -s h -l help -d 'Print help'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -f -a "approve" -d 'Approve the step a Kruise Rollout waits at (StepPaused), so the release goes on'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -f -a "pause" -d 'Pause a rollout: the controller stops updating pods until resumed'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -f -a "resume" -d 'Resume a paused rollout'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -f -a "restart" -d 'Restart every pod of a workload through a new rollout'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -f -a "status" -d 'Show the status of a rollout, and watch it until it completes'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -f -a "history" -d 'Show the revisions of a workload'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -f -a "undo" -d 'Roll back to a previous revision'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and not __fish_seen_subcommand_from approve pause resume restart status history undo help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -s l -l selector -d 'Label selector (e.g. app=web,tier!=cache) instead of names' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -l timeout -d 'Give up after this long (e.g. 5m); 0 waits forever' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -l dry-run -d 'Must be none, client or server. client: print what would be done without sending it; server: submit with dryRun=All, nothing is persisted' -r -f -a "none\t'Really write'
client\t'Only print what would be sent; nothing reaches the server'
server\t'Submit to the server with dryRun=All: validated and admitted, not persisted'"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -l field-manager -d 'Name of the manager used to track field ownership' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -s o -l output -d 'Output format: json, yaml or name' -r -f -a "json\t''
yaml\t''
name\t''"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -l no-wait -d 'Only write; do not reconcile or wait (prints how to reconcile later)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -s w -l watch -d 'When an operator or another controller reconciles, watch until the object rests (exit 4 if a new pod cannot start)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from approve" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from pause" -s l -l selector -d 'Label selector (e.g. app=web,tier!=cache) instead of names' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from pause" -l dry-run -d 'Must be none, client or server. client: print what would be done without sending it; server: submit with dryRun=All, nothing is persisted' -r -f -a "none\t'Really write'
client\t'Only print what would be sent; nothing reaches the server'
server\t'Submit to the server with dryRun=All: validated and admitted, not persisted'"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from pause" -l field-manager -d 'Name of the manager used to track field ownership' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from pause" -s o -l output -d 'Output format: json, yaml or name' -r -f -a "json\t''
yaml\t''
name\t''"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from pause" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from pause" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from pause" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from pause" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from pause" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from pause" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from pause" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from pause" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from pause" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from pause" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from pause" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from pause" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from pause" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from pause" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from pause" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from pause" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from pause" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -s l -l selector -d 'Label selector (e.g. app=web,tier!=cache) instead of names' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -l timeout -d 'Give up after this long (e.g. 5m); 0 waits forever' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -l dry-run -d 'Must be none, client or server. client: print what would be done without sending it; server: submit with dryRun=All, nothing is persisted' -r -f -a "none\t'Really write'
client\t'Only print what would be sent; nothing reaches the server'
server\t'Submit to the server with dryRun=All: validated and admitted, not persisted'"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -l field-manager -d 'Name of the manager used to track field ownership' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -s o -l output -d 'Output format: json, yaml or name' -r -f -a "json\t''
yaml\t''
name\t''"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -l no-wait -d 'Only write; do not reconcile or wait (prints how to reconcile later)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -s w -l watch -d 'When an operator or another controller reconciles, watch until the object rests (exit 4 if a new pod cannot start)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from resume" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -s l -l selector -d 'Label selector (e.g. app=web,tier!=cache) instead of names' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -l timeout -d 'Give up after this long (e.g. 5m); 0 waits forever' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -l dry-run -d 'Must be none, client or server. client: print what would be done without sending it; server: submit with dryRun=All, nothing is persisted' -r -f -a "none\t'Really write'
client\t'Only print what would be sent; nothing reaches the server'
server\t'Submit to the server with dryRun=All: validated and admitted, not persisted'"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -l field-manager -d 'Name of the manager used to track field ownership' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -s o -l output -d 'Output format: json, yaml or name' -r -f -a "json\t''
yaml\t''
name\t''"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -l no-wait -d 'Only write; do not reconcile or wait (prints how to reconcile later)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -s w -l watch -d 'When an operator or another controller reconciles, watch until the object rests (exit 4 if a new pod cannot start)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from restart" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -s l -l selector -d 'Label selector (e.g. app=web,tier!=cache) instead of names' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -s w -l watch -d 'Watch until the rollout completes (--watch=false prints the status once)' -r -f -a "true\t''
false\t''"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -l revision -d 'Wait for this revision to be the one rolled out (Deployment)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -l timeout -d 'Give up after this long (e.g. 5m); 0 waits forever' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -l until-paused -d 'Watching, stop (exit 0) once the object is paused (a Kruise Rollout: at a step\'s pause) instead of waiting for it to be resumed and rolled out'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from history" -s l -l selector -d 'Label selector (e.g. app=web,tier!=cache) instead of names' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from history" -l revision -d 'Show the pod template of this revision' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from history" -s o -l output -d 'Output format: json, yaml or name' -r -f -a "json\t''
yaml\t''
name\t''"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from history" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from history" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from history" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from history" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from history" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from history" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from history" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from history" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from history" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from history" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from history" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from history" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from history" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from history" -l no-headers -d 'Do not print table headers'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from history" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from history" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from history" -s h -l help -d 'Print help'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from history" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -s l -l selector -d 'Label selector (e.g. app=web,tier!=cache) instead of names' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l to-revision -d 'The revision to roll back to; 0 is the previous one' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l timeout -d 'Give up after this long (e.g. 5m); 0 waits forever' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l dry-run -d 'Must be none, client or server. client: print what would be done without sending it; server: submit with dryRun=All, nothing is persisted' -r -f -a "none\t'Really write'
client\t'Only print what would be sent; nothing reaches the server'
server\t'Submit to the server with dryRun=All: validated and admitted, not persisted'"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l field-manager -d 'Name of the manager used to track field ownership' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -s o -l output -d 'Output format: json, yaml or name' -r -f -a "json\t''
yaml\t''
name\t''"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l fast -d 'Kruise Rollout only: go back to the latest earlier step with no traffic and the most replicas instead of rolling the workload back'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l no-wait -d 'Only write; do not reconcile or wait (prints how to reconcile later)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -s w -l watch -d 'When an operator or another controller reconciles, watch until the object rests (exit 4 if a new pod cannot start)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from undo" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from help" -f -a "approve" -d 'Approve the step a Kruise Rollout waits at (StepPaused), so the release goes on'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from help" -f -a "pause" -d 'Pause a rollout: the controller stops updating pods until resumed'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from help" -f -a "resume" -d 'Resume a paused rollout'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from help" -f -a "restart" -d 'Restart every pod of a workload through a new rollout'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show the status of a rollout, and watch it until it completes'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from help" -f -a "history" -d 'Show the revisions of a workload'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from help" -f -a "undo" -d 'Roll back to a previous revision'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand rollout; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -s h -l help -d 'Print help'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -f -a "install" -d 'Install or update the Kruise CRDs this tool serves (server-side apply), and wait until they are Established. CRDs installed by someone else (e.g. the OpenKruise chart) are left alone unless --force'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -f -a "status" -d 'List the Kruise CRDs in the cluster: who installed them, versions, and whether they match ours; and whether the rollout guard (install --with-guard) is installed'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -f -a "diff" -d 'Show how the cluster\'s Kruise CRDs differ from this tool\'s: versions, conversion, subresources, printer columns, fields and validations, each marked `chosen` when it is a difference this tool makes on purpose (exit 0: same, 1: different)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -f -a "print" -d 'Print this tool\'s CRDs as YAML (e.g. for GitOps: kubectl kruise crds print > crds.yaml)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and not __fish_seen_subcommand_from install status diff print help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -l timeout -d 'How long to wait for the CRDs to be Established (and the guard to be type-checked)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -l dry-run -d 'Must be none, client or server. client: print what would be done without sending it; server: submit with dryRun=All, nothing is persisted' -r -f -a "none\t'Really write'
client\t'Only print what would be sent; nothing reaches the server'
server\t'Submit to the server with dryRun=All: validated and admitted, not persisted'"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -l field-manager -d 'Name of the manager used to track field ownership' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -s o -l output -d 'Output format: json, yaml or name' -r -f -a "json\t''
yaml\t''
name\t''"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -l force -d 'Replace CRDs installed by someone else (an operator\'s chart, another tool)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -l with-guard -d 'Also install the rollout guard: a ValidatingAdmissionPolicy and its binding (kubectl-kruise-rollout-guard) that refuse a pod template change to a workload under a Kruise Rollout (label rollouts.kruise.io/workload-type) unless the same write gates it for the Rollout (pause or partition, and the annotation rollouts.kruise.io/in-progressing), as `kubectl kruise set image` and `kubectl kruise rollout` do. Without the operator\'s webhook, a plain `kubectl set image`, `kubectl apply` or `helm upgrade` would roll the new template out at once. Remove it with `kubectl delete validatingadmissionpolicybinding,validatingadmissionpolicy kubectl-kruise-rollout-guard`'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from install" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from status" -s o -l output -d 'Output format: json, yaml or name' -r -f -a "json\t''
yaml\t''
name\t''"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from status" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from status" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from status" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from status" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from status" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from status" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from status" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from status" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from status" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from status" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from status" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from status" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from status" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from status" -l no-headers -d 'Do not print table headers'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from status" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from status" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from diff" -s o -l output -d 'Output format: json or yaml' -r -f -a "json\t''
yaml\t''"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from diff" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from diff" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from diff" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from diff" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from diff" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from diff" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from diff" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from diff" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from diff" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from diff" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from diff" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from diff" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from diff" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from diff" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from diff" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from diff" -s h -l help -d 'Print help'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from diff" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from print" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from print" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from print" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from print" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from print" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from print" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from print" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from print" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from print" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from print" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from print" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from print" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from print" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from print" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from print" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from print" -s h -l help -d 'Print help'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from print" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from help" -f -a "install" -d 'Install or update the Kruise CRDs this tool serves (server-side apply), and wait until they are Established. CRDs installed by someone else (e.g. the OpenKruise chart) are left alone unless --force'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from help" -f -a "status" -d 'List the Kruise CRDs in the cluster: who installed them, versions, and whether they match ours; and whether the rollout guard (install --with-guard) is installed'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from help" -f -a "diff" -d 'Show how the cluster\'s Kruise CRDs differ from this tool\'s: versions, conversion, subresources, printer columns, fields and validations, each marked `chosen` when it is a difference this tool makes on purpose (exit 0: same, 1: different)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from help" -f -a "print" -d 'Print this tool\'s CRDs as YAML (e.g. for GitOps: kubectl kruise crds print > crds.yaml)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand crds; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -s l -l selector -d 'Label selector (e.g. app=web,tier!=cache) instead of names' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -l timeout -d 'Give up watching after this long (e.g. 5m); 0 waits forever' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -s o -l output -d 'Output format: json or yaml (the computed view)' -r -f -a "json\t''
yaml\t''"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -s w -l watch -d 'Redraw the view on every change (one object)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -l until-done -d 'Watch (implies --watch) and exit once the object rests: 0 rolled out, 4 failed, 5 paused'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -s h -l help -d 'Print help'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand get" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand describe" -s l -l selector -d 'Label selector (e.g. app=web,tier!=cache) instead of names' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand describe" -s o -l output -d 'Output format: json or yaml (the computed view)' -r -f -a "json\t''
yaml\t''"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand describe" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand describe" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand describe" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand describe" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand describe" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand describe" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand describe" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand describe" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand describe" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand describe" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand describe" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand describe" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand describe" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand describe" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand describe" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand describe" -s h -l help -d 'Print help'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand describe" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -s l -l selector -d 'Label selector (e.g. app=web,tier!=cache) instead of names' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -l replicas -d 'The new number of replicas (≥ 0)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -l delete-pod -d 'Pods to delete first (repeat or comma-separate)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -l timeout -d 'Give up after this long (e.g. 5m); 0 waits forever' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -l dry-run -d 'Must be none, client or server. client: print what would be done without sending it; server: submit with dryRun=All, nothing is persisted' -r -f -a "none\t'Really write'
client\t'Only print what would be sent; nothing reaches the server'
server\t'Submit to the server with dryRun=All: validated and admitted, not persisted'"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -l field-manager -d 'Name of the manager used to track field ownership' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -s o -l output -d 'Output format: json, yaml or name' -r -f -a "json\t''
yaml\t''
name\t''"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -l no-wait -d 'Only write; do not reconcile or wait (prints how to reconcile later)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -s w -l watch -d 'When an operator or another controller reconciles, watch until the object rests (exit 4 if a new pod cannot start)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand scale" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and not __fish_seen_subcommand_from image help" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and not __fish_seen_subcommand_from image help" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and not __fish_seen_subcommand_from image help" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and not __fish_seen_subcommand_from image help" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and not __fish_seen_subcommand_from image help" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and not __fish_seen_subcommand_from image help" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and not __fish_seen_subcommand_from image help" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and not __fish_seen_subcommand_from image help" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and not __fish_seen_subcommand_from image help" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and not __fish_seen_subcommand_from image help" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and not __fish_seen_subcommand_from image help" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and not __fish_seen_subcommand_from image help" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and not __fish_seen_subcommand_from image help" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and not __fish_seen_subcommand_from image help" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and not __fish_seen_subcommand_from image help" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and not __fish_seen_subcommand_from image help" -s h -l help -d 'Print help'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and not __fish_seen_subcommand_from image help" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and not __fish_seen_subcommand_from image help" -f -a "image" -d 'Update container images of a workload, in place with --inplace'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and not __fish_seen_subcommand_from image help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -l timeout -d 'Give up after this long (e.g. 5m); 0 waits forever' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -l dry-run -d 'Must be none, client or server. client: print what would be done without sending it; server: submit with dryRun=All, nothing is persisted' -r -f -a "none\t'Really write'
client\t'Only print what would be sent; nothing reaches the server'
server\t'Submit to the server with dryRun=All: validated and admitted, not persisted'"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -l field-manager -d 'Name of the manager used to track field ownership' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -s o -l output -d 'Output format: json, yaml or name' -r -f -a "json\t''
yaml\t''
name\t''"
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -l inplace -d 'Update the pods in place (CloneSet)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -l no-wait -d 'Only write; do not reconcile or wait (prints how to reconcile later)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -s w -l watch -d 'When an operator or another controller reconciles, watch until the object rests (exit 4 if a new pod cannot start)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from image" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from help" -f -a "image" -d 'Update container images of a workload, in place with --inplace'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand set; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and not __fish_seen_subcommand_from run help" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and not __fish_seen_subcommand_from run help" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and not __fish_seen_subcommand_from run help" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and not __fish_seen_subcommand_from run help" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and not __fish_seen_subcommand_from run help" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and not __fish_seen_subcommand_from run help" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and not __fish_seen_subcommand_from run help" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and not __fish_seen_subcommand_from run help" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and not __fish_seen_subcommand_from run help" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and not __fish_seen_subcommand_from run help" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and not __fish_seen_subcommand_from run help" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and not __fish_seen_subcommand_from run help" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and not __fish_seen_subcommand_from run help" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and not __fish_seen_subcommand_from run help" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and not __fish_seen_subcommand_from run help" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and not __fish_seen_subcommand_from run help" -s h -l help -d 'Print help'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and not __fish_seen_subcommand_from run help" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and not __fish_seen_subcommand_from run help" -f -a "run" -d 'Run the embedded controllers in the foreground (for clusters without the operator)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and not __fish_seen_subcommand_from run help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from run" -l controllers -d 'Controllers to run (comma-separated); default: every one this build has (`version` lists them)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from run" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from run" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from run" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from run" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from run" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from run" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from run" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from run" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from run" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from run" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from run" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from run" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from run" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from run" -s A -l all-namespaces -d 'Act in every namespace'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from run" -l exit-when-done -d 'Exit (0) once every object of the running controllers rests (done, paused or at its partition); for scripts and CI'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from run" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from run" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from help" -f -a "run" -d 'Run the embedded controllers in the foreground (for clusters without the operator)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand controller; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand completion" -l install -d 'With kubectl-plugin: link the helper `kubectl_complete-kruise` to this binary in DIR (default `${KREW_ROOT:-~/.krew}/bin`) instead of printing a script' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand completion" -l kubeconfig -d 'Path to the kubeconfig file to use (overrides KUBECONFIG)' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand completion" -l context -d 'The name of the kubeconfig context to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand completion" -l cluster -d 'The name of the kubeconfig cluster to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand completion" -l user -d 'The name of the kubeconfig user to use' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand completion" -s n -l namespace -d 'The namespace scope for this request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand completion" -l request-timeout -d 'Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand completion" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand completion" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand completion" -s s -l server -d 'The address and port of the Kubernetes API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand completion" -l token -d 'Bearer token for authentication to the API server' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand completion" -l certificate-authority -d 'Path to a cert file for the certificate authority' -r -F
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand completion" -l tls-server-name -d 'Server name to use for server certificate validation' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand completion" -s v -l v -d 'Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request' -r
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand completion" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand completion" -s y -l yes -d 'Answer yes to every confirmation (needed to confirm without a terminal)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand completion" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand completion" -s V -l version -d 'Print version'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and not __fish_seen_subcommand_from version rollout crds get describe scale set controller completion help" -f -a "version" -d 'Print the client and server versions, and which Kruise operators and CRDs the cluster has'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and not __fish_seen_subcommand_from version rollout crds get describe scale set controller completion help" -f -a "rollout" -d 'Manage the rollout of a workload or a Kruise Rollout: approve, pause, resume, restart, status, history, undo'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and not __fish_seen_subcommand_from version rollout crds get describe scale set controller completion help" -f -a "crds" -d 'Install, inspect and compare the Kruise CRDs (for clusters without the operator)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and not __fish_seen_subcommand_from version rollout crds get describe scale set controller completion help" -f -a "get" -d 'Show an object as a tree: workload → revisions → pods, or Rollout → steps → pods'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and not __fish_seen_subcommand_from version rollout crds get describe scale set controller completion help" -f -a "describe" -d 'Show an object\'s tree with its conditions and latest events'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and not __fish_seen_subcommand_from version rollout crds get describe scale set controller completion help" -f -a "scale" -d 'Set the number of replicas, deleting chosen pods first'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and not __fish_seen_subcommand_from version rollout crds get describe scale set controller completion help" -f -a "set" -d 'Change a workload: images (in place for CloneSet)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and not __fish_seen_subcommand_from version rollout crds get describe scale set controller completion help" -f -a "controller" -d 'Run the embedded controllers (CloneSet, Advanced StatefulSet and DaemonSet, Kruise Rollout) for clusters without the operator'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and not __fish_seen_subcommand_from version rollout crds get describe scale set controller completion help" -f -a "completion" -d 'Write the shell completion script (bash, zsh, fish, powershell)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and not __fish_seen_subcommand_from version rollout crds get describe scale set controller completion help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and __fish_seen_subcommand_from rollout" -f -a "approve" -d 'Approve the step a Kruise Rollout waits at (StepPaused), so the release goes on'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and __fish_seen_subcommand_from rollout" -f -a "pause" -d 'Pause a rollout: the controller stops updating pods until resumed'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and __fish_seen_subcommand_from rollout" -f -a "resume" -d 'Resume a paused rollout'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and __fish_seen_subcommand_from rollout" -f -a "restart" -d 'Restart every pod of a workload through a new rollout'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and __fish_seen_subcommand_from rollout" -f -a "status" -d 'Show the status of a rollout, and watch it until it completes'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and __fish_seen_subcommand_from rollout" -f -a "history" -d 'Show the revisions of a workload'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and __fish_seen_subcommand_from rollout" -f -a "undo" -d 'Roll back to a previous revision'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and __fish_seen_subcommand_from crds" -f -a "install" -d 'Install or update the Kruise CRDs this tool serves (server-side apply), and wait until they are Established. CRDs installed by someone else (e.g. the OpenKruise chart) are left alone unless --force'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and __fish_seen_subcommand_from crds" -f -a "status" -d 'List the Kruise CRDs in the cluster: who installed them, versions, and whether they match ours; and whether the rollout guard (install --with-guard) is installed'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and __fish_seen_subcommand_from crds" -f -a "diff" -d 'Show how the cluster\'s Kruise CRDs differ from this tool\'s: versions, conversion, subresources, printer columns, fields and validations, each marked `chosen` when it is a difference this tool makes on purpose (exit 0: same, 1: different)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and __fish_seen_subcommand_from crds" -f -a "print" -d 'Print this tool\'s CRDs as YAML (e.g. for GitOps: kubectl kruise crds print > crds.yaml)'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and __fish_seen_subcommand_from set" -f -a "image" -d 'Update container images of a workload, in place with --inplace'
complete -c kubectl-kruise -n "__fish_kubectl_kruise_using_subcommand help; and __fish_seen_subcommand_from controller" -f -a "run" -d 'Run the embedded controllers in the foreground (for clusters without the operator)'
