/*
 * Test helper: run a command the way systemd's
 * RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX runs it. A seccomp
 * filter makes socket(2) of any other family fail with EAFNOSUPPORT,
 * as systemd's does, so getifaddrs() (netlink) fails too.
 * usage: restrict-af CMD [ARG...]   (exit 125 if the filter cannot be set)
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "banned.h"

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#endif

#define ALLOW_IF(fam)                                     \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (fam), 0, 1), \
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

int main(int argc, char **argv)
{
	struct sock_filter f[] = {
#ifdef NATIVE_ARCH
		/* Another ABI's syscall numbers mean other calls: let them
		 * be (systemd's SystemCallArchitectures=native denies them). */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
#endif
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* The family is the low 32 bits of the first argument. */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[0])),
		ALLOW_IF(AF_UNIX),
		ALLOW_IF(AF_INET),
		ALLOW_IF(AF_INET6),
		BPF_STMT(BPF_RET | BPF_K,
			 SECCOMP_RET_ERRNO | (EAFNOSUPPORT & SECCOMP_RET_DATA)),
	};
	struct sock_fprog prog = {
		.len = (unsigned short)(sizeof(f) / sizeof(f[0])),
		.filter = f,
	};

	if (argc < 2) {
		fprintf(stderr, "usage: restrict-af CMD [ARG...]\n");
		return 2;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		fprintf(stderr, "restrict-af: seccomp: %s\n", strerror(errno));
		return 125;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "restrict-af: exec '%s': %s\n", argv[1],
		strerror(errno));
	return 127;
}
