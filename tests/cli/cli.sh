# kakao-pam tests (kakao-pam(1)), sourced by tests/run.sh at its cli anchor with
# the mock Kakao API running. Each file below is one group; every check
# counts in run.sh's totals.
KP="$B/kakao-pam"
CW="$W/cli"
CLI_KEYS="$W/keys"
CLI_CA="$W/certs/ca.pem"
CLI_CONF="$CW/cur.conf"
mkdir -p "$CW/services"
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$CW/services/other"
. "$top/tests/cli/lib.sh"
cli_file "$CW/users" 644 '3095134389 alice\n3095134389 deploy\n1122334455 bob\n'

. "$top/tests/cli/test_main_mint.sh"
. "$top/tests/cli/test_verify.sh"
. "$top/tests/cli/test_enroll.sh"
. "$top/tests/cli/test_check.sh"
. "$top/tests/cli/test_one_time.sh"
. "$top/tests/cli/test_relative.sh"
. "$top/tests/cli/test_login.sh"
. "$top/tests/cli/test_loopback.sh"
. "$top/tests/cli/test_phone.sh"
. "$top/tests/cli/test_valgrind.sh"
