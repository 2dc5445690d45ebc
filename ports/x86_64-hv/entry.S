/*
 * 64-bit entry of the x86-64 guest runtime. Expects long mode with the
 * first 2 MiB identity mapped (the VMM or boot32.S sets that up); loads its
 * own GDT and IDT, zeroes .bss, and calls rt_main().
 */
    .section .text.entry, "ax"
    .code64
    .globl _start64
_start64:
    cli
    lea __stack_top(%rip), %rsp
    lgdt gdt_ptr(%rip)
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    pushq $0x08
    lea 1f(%rip), %rax
    pushq %rax
    lretq
1:  lea __bss_start(%rip), %rdi
    lea __bss_end(%rip), %rcx
    sub %rdi, %rcx
    xor %eax, %eax
    cld
    rep stosb
    call rt_main
2:  hlt
    jmp 2b

/* 256 stubs of 16 bytes each: push a dummy error code where the CPU pushes
 * none, push the vector, join isr_common. rt.c points gate n at
 * isr_stubs + 16 * n. */
    .align 16
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .align 16
    .if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    pushq $0
    .endif
    pushq $vec
    jmp isr_common
    .set vec, vec + 1
    .endr

isr_common:
    push %rax
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %r8
    push %r9
    push %r10
    push %r11
    mov 72(%rsp), %rdi
    mov %rsp, %rsi
    cld
    call rt_isr
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rax
    add $16, %rsp
    iretq

    .section .rodata
    .align 16
gdt:
    .quad 0
    .quad 0x00af9a000000ffff /* 0x08: 64-bit code, DPL 0 */
    .quad 0x00cf92000000ffff /* 0x10: data */
gdt_end:
gdt_ptr:
    .word gdt_end - gdt - 1
    .quad gdt

    .section .note.GNU-stack, "", @progbits
