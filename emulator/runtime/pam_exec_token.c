/*
 * pam_exec_token: a PAM authentication module that runs a command with the WHOLE
 * authentication token on its standard input and PAM_USER in its environment, and succeeds
 * only when the command exits 0.
 *
 * Why not pam_exec.so expose_authtok: since the fix of CVE-2015-3238, pam_exec hands the
 * command at most PAM_MAX_RESP_SIZE (512) bytes of the token ("Only first PAM_MAX_RESP_SIZE
 * bytes of a password are provided to the command", pam_exec(8); measured here with Debian
 * 12's libpam-modules 1.5.2: 511 bytes of a 1200-byte password). An RDS IAM token signed with
 * an STS session's credentials carries the session token and is longer than that, so it
 * would arrive cut and never verify.
 *
 * Used by emulator/runtime/rds_iam.py, which compiles it at the first Aurora stand-in
 * (cc -shared -fPIC) and names it by its path in /etc/pam.d/<service>:
 *     auth required /path/pam_exec_token.so /usr/bin/python3 .../pam_verify.py URL CLUSTER
 * The few PAM declarations it needs are written out below (Linux-PAM's stable ABI), so the
 * build needs no libpam0g-dev headers, only a C compiler.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct pam_handle pam_handle_t;
extern int pam_get_user(pam_handle_t *pamh, const char **user, const char *prompt);
extern int pam_get_authtok(pam_handle_t *pamh, int item, const char **authtok,
                           const char *prompt);
enum { PAM_SUCCESS = 0, PAM_AUTHTOK = 6, PAM_AUTH_ERR = 7 };

static int write_all(int fd, const char *text, size_t left) {
    while (left > 0) {
        ssize_t written = write(fd, text, left);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            return -1;
        text += written;
        left -= (size_t)written;
    }
    return 0;
}

int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv) {
    const char *user = NULL, *token = NULL;
    int fds[2], status = 0, written;
    pid_t pid;
    (void)flags;
    if (argc < 1 || pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || user == NULL ||
        pam_get_authtok(pamh, PAM_AUTHTOK, &token, NULL) != PAM_SUCCESS || token == NULL)
        return PAM_AUTH_ERR;
    if (pipe(fds) != 0)
        return PAM_AUTH_ERR;
    pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return PAM_AUTH_ERR;
    }
    if (pid == 0) {
        char **args = calloc((size_t)argc + 1, sizeof(char *));
        if (args == NULL || dup2(fds[0], STDIN_FILENO) < 0 || setenv("PAM_USER", user, 1) != 0)
            _exit(126);
        close(fds[0]);
        close(fds[1]);
        for (int i = 0; i < argc; i++)
            args[i] = (char *)argv[i];
        execv(args[0], args);
        _exit(127);
    }
    close(fds[0]);
    written = write_all(fds[1], token, strlen(token));
    close(fds[1]);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return PAM_AUTH_ERR;
    return written == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? PAM_SUCCESS
                                                                        : PAM_AUTH_ERR;
}

int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv) {
    (void)pamh;
    (void)flags;
    (void)argc;
    (void)argv;
    return PAM_SUCCESS;
}
