/*
 * Binds the few glibc symbols whose default version is new (pthread_create/detach: 2.34; expf/logf: 2.27)
 * to their old versions, which every glibc since 2.2.5 exports, so the prebuilt binary built here loads on
 * older Linux distributions too (VS Code's own floor is glibc 2.28). Included first by every source file.
 */
#ifndef DAP_COMPAT_H
#define DAP_COMPAT_H
#if defined(__x86_64__) && defined(__linux__)
__asm__(".symver pthread_create,pthread_create@GLIBC_2.2.5");
__asm__(".symver pthread_detach,pthread_detach@GLIBC_2.2.5");
__asm__(".symver expf,expf@GLIBC_2.2.5");
__asm__(".symver logf,logf@GLIBC_2.2.5");
#endif
#endif
