/* riscv64 virt, M-mode, both harts: a stack per hart, mtvec, then C. */
    .section .text.start, "ax"
    .globl _start
_start:
    csrr    a0, mhartid
    la      t0, trap_entry
    csrw    mtvec, t0
    csrw    mie, zero
    la      sp, __stack_top
    li      t1, 0x10000          /* 64 KiB per hart */
    mul     t1, t1, a0
    sub     sp, sp, t1
    bnez    a0, 2f
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 3f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
3:  fence   rw, rw
    la      t0, bss_ready
    li      t1, 1
    sw      t1, 0(t0)
    j       4f
2:  la      t0, bss_ready        /* hart 1: wait until hart 0 cleared .bss */
    lw      t1, 0(t0)
    beqz    t1, 2b
    fence   rw, rw
4:  call    board_entry
5:  wfi
    j       5b

    .data
    .align 2
bss_ready: .word 0

/* Traps: save the caller-saved registers, call board_trap(mcause, mepc). */
    .text
    .align 4
trap_entry:
    addi    sp, sp, -144
    sd      ra, 0(sp)
    sd      t0, 8(sp)
    sd      t1, 16(sp)
    sd      t2, 24(sp)
    sd      a0, 32(sp)
    sd      a1, 40(sp)
    sd      a2, 48(sp)
    sd      a3, 56(sp)
    sd      a4, 64(sp)
    sd      a5, 72(sp)
    sd      a6, 80(sp)
    sd      a7, 88(sp)
    sd      t3, 96(sp)
    sd      t4, 104(sp)
    sd      t5, 112(sp)
    sd      t6, 120(sp)
    csrr    a0, mcause
    csrr    a1, mepc
    call    board_trap
    ld      ra, 0(sp)
    ld      t0, 8(sp)
    ld      t1, 16(sp)
    ld      t2, 24(sp)
    ld      a0, 32(sp)
    ld      a1, 40(sp)
    ld      a2, 48(sp)
    ld      a3, 56(sp)
    ld      a4, 64(sp)
    ld      a5, 72(sp)
    ld      a6, 80(sp)
    ld      a7, 88(sp)
    ld      t3, 96(sp)
    ld      t4, 104(sp)
    ld      t5, 112(sp)
    ld      t6, 120(sp)
    addi    sp, sp, 144
    mret
