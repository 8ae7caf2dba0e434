/*
 * bindshim: gives an emulated ECS task its own address on a shared loopback.
 *
 * awsvpc gives every task an IP of its own, so the application binds 0.0.0.0:PORT and never
 * clashes with another task. The emulator runs tasks as processes of one host, each with a
 * loopback address of its own (emulator/runtime/network.py). Loaded with LD_PRELOAD into
 * every process of a task (emulator/runtime/containers.py compiles it at start), it
 *  - turns bind() to the wildcard address (0.0.0.0, or :: on a dual-stack socket) into a bind
 *    to the task's address, as if the task's ENI were the only interface;
 *  - turns connect() to 127.0.0.1 on one of the task's container ports into a connect to the
 *    task's address: in a task, localhost is the task's own network namespace, so a container
 *    health check (`curl localhost:PORT`) reaches its own container. Other loopback ports
 *    (the emulator's endpoint) are left alone.
 * Its settings sit beside the path it was loaded from (dladdr): "<dir>/bind.conf" holds the
 * task's address and then its container ports, separated by spaces. No file, no change.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_PORTS 64

static struct in_addr task_address;
static int configured;
static unsigned short ports[MAX_PORTS];
static int port_count;

static void __attribute__((constructor)) load_settings(void) {
    Dl_info info;
    char path[4096];
    char address[64];
    if (!dladdr((void *)load_settings, &info) || info.dli_fname == NULL) return;
    const char *slash = strrchr(info.dli_fname, '/');
    if (slash == NULL) return;
    snprintf(path, sizeof path, "%.*s/bind.conf", (int)(slash - info.dli_fname), info.dli_fname);
    FILE *file = fopen(path, "r");
    if (file == NULL) return;
    if (fscanf(file, "%63s", address) == 1 && inet_pton(AF_INET, address, &task_address) == 1) {
        configured = 1;
        unsigned int port;
        while (port_count < MAX_PORTS && fscanf(file, "%u", &port) == 1)
            ports[port_count++] = (unsigned short)port;
    }
    fclose(file);
}

static int is_task_port(unsigned short port) {
    for (int i = 0; i < port_count; i++)
        if (ports[i] == port) return 1;
    return 0;
}

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
    static int (*real_bind)(int, const struct sockaddr *, socklen_t);
    if (real_bind == NULL) real_bind = dlsym(RTLD_NEXT, "bind");
    if (configured && addr != NULL && addr->sa_family == AF_INET
            && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        struct sockaddr_in in = *(const struct sockaddr_in *)addr;
        if (in.sin_addr.s_addr == htonl(INADDR_ANY)) {
            in.sin_addr = task_address;
            return real_bind(fd, (const struct sockaddr *)&in, sizeof in);
        }
    }
    if (configured && addr != NULL && addr->sa_family == AF_INET6
            && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 in6 = *(const struct sockaddr_in6 *)addr;
        if (IN6_IS_ADDR_UNSPECIFIED(&in6.sin6_addr)) {
            /* The IPv4-mapped form of the task's address (a dual-stack socket's view). */
            memset(&in6.sin6_addr, 0, sizeof in6.sin6_addr);
            in6.sin6_addr.s6_addr[10] = 0xff;
            in6.sin6_addr.s6_addr[11] = 0xff;
            memcpy(&in6.sin6_addr.s6_addr[12], &task_address, 4);
            return real_bind(fd, (const struct sockaddr *)&in6, sizeof in6);
        }
    }
    return real_bind(fd, addr, len);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
    static int (*real_connect)(int, const struct sockaddr *, socklen_t);
    if (real_connect == NULL) real_connect = dlsym(RTLD_NEXT, "connect");
    if (configured && addr != NULL && addr->sa_family == AF_INET
            && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        struct sockaddr_in in = *(const struct sockaddr_in *)addr;
        if (in.sin_addr.s_addr == htonl(INADDR_LOOPBACK) && is_task_port(ntohs(in.sin_port))) {
            in.sin_addr = task_address;
            return real_connect(fd, (const struct sockaddr *)&in, sizeof in);
        }
    }
    return real_connect(fd, addr, len);
}
