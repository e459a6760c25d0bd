/*
 * sal.h - iisd stand-in for the Microsoft source-code annotation language.
 *
 * IIS module sources annotate parameters with SAL (_In_, _Out_opt_,
 * __in_bcount(n), ...). These annotations only matter to Microsoft's static
 * analyser, so on Linux every one of them expands to nothing.
 *
 * One caveat: libstdc++ (GCC 12 and others) uses the identifiers __in and
 * __out as parameter names inside its own headers. Defining them as empty
 * macros before such a header is read would break it. In C++ this file
 * therefore includes the affected standard headers first (their include
 * guards then make later #includes no-ops), and only then defines __in and
 * __out. Define IISD_SAL_NO_SHORT_IN_OUT before including this file to skip
 * both the pre-includes and the two macros (module code must then not use
 * the bare __in/__out annotations). Standard headers outside that list that
 * use __in/__out (<experimental/...>, <ext/...>, <tr1/...>, parallel mode)
 * must be included before this file.
 */
#ifndef IISD_SAL_H
#define IISD_SAL_H

/* SAL 2 parameter annotations. */
#define _In_
#define _In_opt_
#define _In_z_
#define _In_opt_z_
#define _In_reads_(size)
#define _In_reads_opt_(size)
#define _In_reads_bytes_(size)
#define _In_reads_bytes_opt_(size)
#define _In_reads_z_(size)
#define _In_reads_opt_z_(size)
#define _In_reads_or_z_(size)
#define _In_reads_to_ptr_(ptr)
#define _In_range_(lo, hi)
#define _In_count_(size)
#define _In_bytecount_(size)
#define _Inout_
#define _Inout_opt_
#define _Inout_z_
#define _Inout_opt_z_
#define _Inout_updates_(size)
#define _Inout_updates_opt_(size)
#define _Inout_updates_z_(size)
#define _Inout_updates_bytes_(size)
#define _Inout_updates_bytes_opt_(size)
#define _Inout_updates_to_(size, count)
#define _Inout_updates_bytes_to_(size, count)
#define _Inout_updates_all_(size)
#define _Inout_updates_bytes_all_(size)
#define _Out_
#define _Out_opt_
#define _Out_z_
#define _Out_writes_(size)
#define _Out_writes_opt_(size)
#define _Out_writes_z_(size)
#define _Out_writes_opt_z_(size)
#define _Out_writes_bytes_(size)
#define _Out_writes_bytes_opt_(size)
#define _Out_writes_to_(size, count)
#define _Out_writes_to_opt_(size, count)
#define _Out_writes_bytes_to_(size, count)
#define _Out_writes_bytes_to_opt_(size, count)
#define _Out_writes_all_(size)
#define _Out_writes_all_opt_(size)
#define _Out_writes_bytes_all_(size)
#define _Out_writes_bytes_all_opt_(size)
#define _Out_range_(lo, hi)
#define _Out_cap_(size)
#define _Out_bytecap_(size)
#define _Outptr_
#define _Outptr_opt_
#define _Outptr_result_maybenull_
#define _Outptr_opt_result_maybenull_
#define _Outptr_result_nullonfailure_
#define _Outptr_opt_result_nullonfailure_
#define _Outptr_result_z_
#define _Outptr_opt_result_z_
#define _Outptr_result_maybenull_z_
#define _Outptr_result_buffer_(size)
#define _Outptr_result_bytebuffer_(size)
#define _Outptr_result_buffer_maybenull_(size)
#define _Outptr_result_bytebuffer_maybenull_(size)
#define _Outref_
#define _Outref_result_maybenull_
#define _COM_Outptr_
#define _COM_Outptr_opt_
#define _COM_Outptr_result_maybenull_
#define _Deref_out_
#define _Deref_out_opt_
#define _Deref_out_z_
#define _Deref_out_range_(lo, hi)
#define _Deref_in_range_(lo, hi)
#define _Deref_pre_z_
#define _Deref_post_z_
#define _Reserved_
#define _Frees_ptr_
#define _Frees_ptr_opt_
#define _Printf_format_string_
#define _Scanf_format_string_
#define _Format_string_impl_(kind, where)
#define _Points_to_data_
#define _Literal_
#define _Const_
#define _Notnull_
#define _Maybenull_
#define _Null_
#define _Null_terminated_
#define _NullNull_terminated_
#define _Pre_
#define _Post_
#define _Pre_z_
#define _Pre_valid_
#define _Pre_opt_valid_
#define _Pre_notnull_
#define _Pre_maybenull_
#define _Pre_null_
#define _Pre_readable_size_(size)
#define _Pre_writable_size_(size)
#define _Pre_satisfies_(cond)
#define _Post_z_
#define _Post_valid_
#define _Post_invalid_
#define _Post_notnull_
#define _Post_maybenull_
#define _Post_null_
#define _Post_ptr_invalid_
#define _Post_readable_size_(size)
#define _Post_writable_size_(size)
#define _Post_satisfies_(cond)
#define _Post_equal_to_(expr)

/* SAL 2 function and structure annotations. */
#define _Ret_maybenull_
#define _Ret_notnull_
#define _Ret_null_
#define _Ret_z_
#define _Ret_maybenull_z_
#define _Ret_opt_z_
#define _Ret_valid_
#define _Ret_range_(lo, hi)
#define _Ret_writes_(size)
#define _Ret_writes_z_(size)
#define _Ret_writes_bytes_(size)
#define _Ret_writes_maybenull_(size)
#define _Ret_writes_bytes_maybenull_(size)
#define _Ret_writes_to_(size, count)
#define _Ret_writes_bytes_to_(size, count)
#define _Must_inspect_result_
#define _Check_return_
#define _Use_decl_annotations_
#define _Success_(expr)
#define _Return_type_success_(expr)
#define _Result_nullonfailure_
#define _Result_zeroonfailure_
#define _When_(expr, annotes)
#define _Always_(annotes)
#define _On_failure_(annotes)
#define _Field_size_(size)
#define _Field_size_opt_(size)
#define _Field_size_bytes_(size)
#define _Field_size_bytes_opt_(size)
#define _Field_size_part_(size, count)
#define _Field_size_bytes_part_(size, count)
#define _Field_size_full_(size)
#define _Field_size_bytes_full_(size)
#define _Field_range_(lo, hi)
#define _Field_z_
#define _Struct_size_bytes_(size)
#define _Analysis_assume_(expr)
#define _Analysis_noreturn_
#define _Analysis_mode_(mode)
#define _Acquires_lock_(lock)
#define _Releases_lock_(lock)
#define _Acquires_exclusive_lock_(lock)
#define _Releases_exclusive_lock_(lock)
#define _Acquires_shared_lock_(lock)
#define _Releases_shared_lock_(lock)
#define _Requires_lock_held_(lock)
#define _Requires_lock_not_held_(lock)
#define _Guarded_by_(lock)
#define _Interlocked_
#define _Interlocked_operand_
#define _Function_class_(name)
#define _Raises_SEH_exception_
#define _Maybe_raises_SEH_exception_
#define _Translates_Win32_to_HRESULT_(error)
#define _Strict_type_match_
#define _Enum_is_bitflag_
#define _Pre_defensive_
#define _Post_defensive_
#define _In_defensive_(annotes)
#define _Out_defensive_(annotes)
#define _Inout_defensive_(annotes)

/* SAL 1 ("__in" family) annotations, still common in older module sources. */
#define __inout
#define __in_opt
#define __out_opt
#define __inout_opt
#define __in_z
#define __in_z_opt
#define __in_opt_z
#define __out_z
#define __out_z_opt
#define __inout_z
#define __inout_z_opt
#define __in_bcount(size)
#define __in_bcount_opt(size)
#define __in_bcount_z(size)
#define __in_ecount(size)
#define __in_ecount_opt(size)
#define __in_ecount_z(size)
#define __in_xcount(size)
#define __in_xcount_opt(size)
#define __out_bcount(size)
#define __out_bcount_opt(size)
#define __out_bcount_z(size)
#define __out_ecount(size)
#define __out_ecount_opt(size)
#define __out_ecount_z(size)
#define __out_xcount(size)
#define __out_xcount_opt(size)
#define __out_bcount_part(size, length)
#define __out_bcount_part_opt(size, length)
#define __out_ecount_part(size, length)
#define __out_ecount_part_opt(size, length)
#define __out_bcount_full(size)
#define __out_ecount_full(size)
#define __inout_bcount(size)
#define __inout_bcount_opt(size)
#define __inout_ecount(size)
#define __inout_ecount_opt(size)
#define __inout_bcount_part(size, length)
#define __inout_ecount_part(size, length)
#define __deref_in
#define __deref_in_opt
#define __deref_out
#define __deref_out_opt
#define __deref_out_z
#define __deref_out_z_opt
#define __deref_opt_out
#define __deref_opt_out_opt
#define __deref_inout
#define __deref_inout_opt
#define __deref_inout_z
#define __deref_out_bcount(size)
#define __deref_out_bcount_opt(size)
#define __deref_out_ecount(size)
#define __deref_out_ecount_opt(size)
#define __deref_out_xcount(size)
#define __field_bcount(size)
#define __field_bcount_opt(size)
#define __field_ecount(size)
#define __field_ecount_opt(size)
#define __notnull
#define __maybenull
#define __nullterminated
#define __nullnullterminated
#define __checkReturn
#define __success(expr)
#define __format_string
#define __typefix(ctype)
#define __override
#define __drv_allocatesMem(kind)
#define __drv_freesMem(kind)
#define __drv_aliasesMem
#define __drv_when(cond, annotes)
#define __drv_maxIRQL(level)

/* MIDL-generated ("__RPC__") annotations. */
#define __RPC__in
#define __RPC__in_opt
#define __RPC__in_string
#define __RPC__in_opt_string
#define __RPC__in_ecount(size)
#define __RPC__in_ecount_full(size)
#define __RPC__in_ecount_full_opt(size)
#define __RPC__in_xcount(size)
#define __RPC__in_xcount_full(size)
#define __RPC__out
#define __RPC__out_ecount(size)
#define __RPC__out_ecount_full(size)
#define __RPC__out_ecount_part(size, length)
#define __RPC__out_xcount(size)
#define __RPC__out_xcount_part(size, length)
#define __RPC__inout
#define __RPC__inout_opt
#define __RPC__inout_string
#define __RPC__inout_ecount_full(size)
#define __RPC__inout_xcount(size)
#define __RPC__deref_in
#define __RPC__deref_in_opt
#define __RPC__deref_out
#define __RPC__deref_out_opt
#define __RPC__deref_out_string
#define __RPC__deref_out_opt_string
#define __RPC__deref_out_ecount_full(size)
#define __RPC__deref_out_ecount_full_opt(size)
#define __RPC__deref_inout
#define __RPC__deref_inout_opt
#define __RPC__deref_opt_inout
#define __RPC__deref_opt_inout_opt
#define __RPC__deref_opt_inout_string
#define __RPC_unique_pointer
#define __RPC_string
#define __RPC_FAR

/* __in and __out: see the note at the top of this file. */
#if !defined(IISD_SAL_NO_SHORT_IN_OUT)
#if defined(__cplusplus)
#include <utility>
#include <tuple>
#include <string>
#include <algorithm>
#include <memory>
#include <istream>
#include <ostream>
#include <locale>
#include <random>
#include <regex>
#include <thread>
#endif
#define __in
#define __out
#endif

#endif /* IISD_SAL_H */
