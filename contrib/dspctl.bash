# bash completion for dspctl(8).  Install as
# /usr/share/bash-completion/completions/dspctl, or source it.

_dspctl()
{
	local cur prev cmd i
	local commands="status groups allow deny history diff revert rollback
	    restore tail denials ping check selftest"
	local groups="auth build commit configs containers distribution events
	    exec grpc images info networks nodes ping plugins secrets services
	    session swarm system tasks version volumes"
	local actions="start stop restart kill pause unpause archive export
	    attach exec logs top changes"

	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--socket|--for|--reason|--group|--client|--since|--limit|\
		--action|--body|--proxy)
			((i++)) ;;
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done

	case $prev in
	--socket|--body)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--group)
		COMPREPLY=($(compgen -W "$groups" -- "$cur")); return ;;
	--action)
		COMPREPLY=($(compgen -W "$actions" -- "$cur")); return ;;
	--for|--since)
		COMPREPLY=($(compgen -W "30s 5m 15m 30m 1h 24h 7d" -- "$cur"))
		return ;;
	--client)
		[[ $cmd == selftest ]] && COMPREPLY=($(compgen -W "traefik
		    portainer watchtower homepage dozzle" -- "$cur"))
		return ;;
	--reason|--limit|--proxy)
		return ;;
	esac

	case $cmd in
	"")
		COMPREPLY=($(compgen -W "$commands --socket --json --yes
		    --help --version" -- "$cur")) ;;
	allow)
		COMPREPLY=($(compgen -W "$groups $actions --action --write
		    --for --reason --yes" -- "$cur")) ;;
	deny)
		COMPREPLY=($(compgen -W "$groups $actions --action --for
		    --reason" -- "$cur")) ;;
	history)
		COMPREPLY=($(compgen -W "--limit" -- "$cur")) ;;
	revert|restore)
		COMPREPLY=($(compgen -W "--reason" -- "$cur")) ;;
	rollback)
		COMPREPLY=($(compgen -W "--for --group --reason --yes" \
		    -- "$cur")) ;;
	tail)
		COMPREPLY=($(compgen -W "--denied --client --group --lossy" \
		    -- "$cur")) ;;
	denials)
		COMPREPLY=($(compgen -W "--since --limit --bypass --client
		    --group" -- "$cur")) ;;
	check)
		COMPREPLY=($(compgen -W "GET HEAD POST PUT DELETE --body" \
		    -- "$cur")) ;;
	selftest)
		COMPREPLY=($(compgen -W "--client --proxy" -- "$cur")) ;;
	esac
}
complete -F _dspctl dspctl
