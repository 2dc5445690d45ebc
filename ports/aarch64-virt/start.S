/* aarch64 virt at EL1: core 0 enters _start, core 1 _start1 (PSCI CPU_ON). */
    .section .text.start, "ax"
    .globl _start, _start1
_start:
    mov     x19, #0
    b       common
_start1:
    mov     x19, #1
common:
    ldr     x0, =vectors
    msr     vbar_el1, x0
    mov     x0, #(3 << 20)          /* CPACR_EL1.FPEN: no FP/SIMD traps */
    msr     cpacr_el1, x0
    isb
    ldr     x0, =__stack_top
    mov     x1, #0x10000            /* 64 KiB per core */
    mul     x1, x1, x19
    sub     sp, x0, x1
    cbnz    x19, 2f
    ldr     x0, =__bss_start
    ldr     x1, =__bss_end
1:  cmp     x0, x1
    b.hs    2f
    str     xzr, [x0], #8
    b       1b
2:  mov     x0, x19
    bl      board_entry
3:  wfi
    b       3b

/* Caller-saved registers around a C handler, then eret. */
.macro SAVE
    sub     sp, sp, #192
    stp     x0, x1, [sp, #0]
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x29, [sp, #144]
    str     x30, [sp, #160]
    mrs     x0, elr_el1
    mrs     x1, spsr_el1
    stp     x0, x1, [sp, #168]
.endm
.macro RESTORE
    ldp     x0, x1, [sp, #168]
    msr     elr_el1, x0
    msr     spsr_el1, x1
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x29, [sp, #144]
    ldr     x30, [sp, #160]
    add     sp, sp, #192
    eret
.endm

    .text
    .balign 2048
vectors:
    .rept 4                         /* current EL with SP_EL0: unexpected */
    .balign 128
    b       fault
    .endr
    .balign 128                     /* current EL with SP_ELx: sync */
    b       fault
    .balign 128                     /* IRQ */
    b       irq
    .balign 128                     /* FIQ */
    b       fault
    .balign 128                     /* SError */
    b       fault
    .rept 8                         /* lower ELs: unexpected */
    .balign 128
    b       fault
    .endr

irq:
    SAVE
    bl      board_irq
    RESTORE

fault:
    mrs     x0, esr_el1
    mrs     x1, elr_el1
    bl      board_exc
4:  b       4b
