/*
 * Multiboot (v1) entry for QEMU's -kernel: 32-bit protected mode, paging
 * off. Builds an identity map of the first 4 GiB with 2 MiB pages, enables
 * PAE and long mode, and jumps to the 64-bit entry. The header uses the
 * address fields (flag 16), so the image is a flat binary loaded at 1 MiB.
 */
    .section .text.boot, "ax"
    .code32
    .globl boot_entry
boot_entry:
    jmp boot32
    .align 4
mb_header:
    .long 0x1badb002
    .long 0x00010002
    .long -(0x1badb002 + 0x00010002)
    .long mb_header
    .long __image_start
    .long __image_end
    .long __boot_bss_end
    .long boot32

boot32:
    cli
    mov %ebx, mb_info
    /* PML4[0] -> PDPT; PDPT[0..3] -> PD0..3; PDn[i] = 2 MiB pages. */
    mov $boot_pml4, %edi
    mov $boot_pdpt, %eax
    or $7, %eax
    mov %eax, (%edi)
    mov $boot_pdpt, %edi
    mov $boot_pd, %eax
    or $7, %eax
    mov $4, %ecx
1:  mov %eax, (%edi)
    add $0x1000, %eax
    add $8, %edi
    loop 1b
    mov $boot_pd, %edi
    mov $0x87, %eax /* present, writable, user (the SVM test runs CPL 3 code), 2 MiB */
    xor %edx, %edx
    mov $2048, %ecx
2:  mov %eax, (%edi)
    mov %edx, 4(%edi)
    add $0x200000, %eax
    adc $0, %edx
    add $8, %edi
    loop 2b
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $0x20, %eax
    mov %eax, %cr4
    mov $0xc0000080, %ecx
    rdmsr
    or $0x100, %eax
    wrmsr
    mov %cr0, %eax
    or $0x80000001, %eax
    mov %eax, %cr0
    lgdt boot_gdt_ptr
    ljmp $0x08, $3f
    .code64
3:  jmp _start64

    .section .rodata
    .align 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff
    .quad 0x00cf92000000ffff
boot_gdt_end:
boot_gdt_ptr:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .section .data
    .globl mb_info
    .align 8
mb_info:
    .quad 0

    .section .boot_bss, "aw", @nobits
    .align 4096
boot_pml4: .space 4096
boot_pdpt: .space 4096
boot_pd:   .space 4 * 4096

    .section .note.GNU-stack, "", @progbits
