// One schema for both backends: the migrations in migrations/sqlite and migrations/postgres
// produce these same columns.

diesel::table! {
    firms (id) {
        id -> Text,
        slug -> Text,
        name -> Text,
        email_display_name -> Text,
        thread_notification_policy -> Text,
        default_link_expiry_days -> Integer,
        upload_limit_bytes -> BigInt,
        member_payment_access -> Text,
        reminder_policy -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        require_two_factor_staff -> Bool,
        require_two_factor_contacts -> Bool,
        new_device_alerts -> Bool,
    }
}

diesel::table! {
    offices (id) {
        id -> Text,
        firm_id -> Text,
        name -> Text,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    staff (id) {
        id -> Text,
        firm_id -> Text,
        email -> Text,
        name -> Text,
        role -> Text,
        portal_permission -> Bool,
        office_id -> Nullable<Text>,
        disabled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    clients (id) {
        id -> Text,
        firm_id -> Text,
        kind -> Text,
        name -> Text,
        external_id -> Nullable<Text>,
        owner_staff_id -> Nullable<Text>,
        portal_inbox_folder_id -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    client_emails (client_id, position) {
        client_id -> Text,
        position -> Integer,
        firm_id -> Text,
        email -> Text,
    }
}

diesel::table! {
    client_assignees (client_id, staff_id) {
        client_id -> Text,
        staff_id -> Text,
        firm_id -> Text,
    }
}

diesel::table! {
    contacts (id) {
        id -> Text,
        firm_id -> Text,
        external_id -> Nullable<Text>,
        first_name -> Text,
        last_name -> Text,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        client_id -> Nullable<Text>,
        staff_id -> Nullable<Text>,
        office_id -> Nullable<Text>,
        disabled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    matters (id) {
        id -> Text,
        firm_id -> Text,
        client_id -> Text,
        title -> Text,
        reference -> Nullable<Text>,
        email -> Nullable<Text>,
        restricted -> Bool,
        external_id -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    matter_members (matter_id, staff_id) {
        matter_id -> Text,
        staff_id -> Text,
        firm_id -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    credentials (owner_id) {
        owner_id -> Text,
        firm_id -> Text,
        password_hash -> Text,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        firm_id -> Text,
        staff_id -> Nullable<Text>,
        contact_id -> Nullable<Text>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    two_factor (owner_id) {
        owner_id -> Text,
        firm_id -> Text,
        secret -> Text,
        confirmed_at -> Nullable<Timestamp>,
        pending_expires_at -> Timestamp,
        last_step -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    recovery_codes (code_hash) {
        code_hash -> Text,
        owner_id -> Text,
        firm_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    login_challenges (token_hash) {
        token_hash -> Text,
        firm_id -> Text,
        account_kind -> Text,
        owner_id -> Text,
        purpose -> Text,
        failures -> Integer,
        expires_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        firm_id -> Text,
        name -> Text,
        secret_hash -> Text,
        scopes -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_heads (firm_id) {
        firm_id -> Text,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    audit_checkpoints (firm_id, seq) {
        firm_id -> Text,
        seq -> BigInt,
        head_hash -> Text,
        signed_at -> Timestamp,
        key_id -> Text,
        signature -> Text,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        firm_id -> Text,
        seq -> BigInt,
        occurred_at -> Timestamp,
        actor_kind -> Text,
        actor_id -> Nullable<Text>,
        action -> Text,
        target_kind -> Nullable<Text>,
        target_id -> Nullable<Text>,
        outcome -> Text,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        details -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    idempotency_keys (principal_id, idempotency_key) {
        principal_id -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        response_status -> Nullable<Integer>,
        response_headers -> Nullable<Text>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outbox_events (id) {
        id -> Text,
        firm_id -> Text,
        event_type -> Text,
        data -> Text,
        occurred_at -> Timestamp,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        firm_id -> Text,
        url -> Text,
        description -> Nullable<Text>,
        event_types -> Text,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        disabled_at -> Nullable<Timestamp>,
        disabled_reason -> Nullable<Text>,
        failing_since -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Text,
        firm_id -> Text,
        event_id -> Text,
        channel -> Text,
        endpoint_id -> Nullable<Text>,
        recipient -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        content -> Nullable<Text>,
    }
}

diesel::table! {
    delivery_attempts (id) {
        id -> Text,
        delivery_id -> Text,
        attempted_at -> Timestamp,
        status_code -> Nullable<Integer>,
        latency_ms -> BigInt,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    portals (id) {
        id -> Text,
        firm_id -> Text,
        contact_id -> Text,
        kind -> Text,
        expires_at -> Nullable<Timestamp>,
        status -> Text,
        created_by -> Nullable<Text>,
        activated_at -> Nullable<Timestamp>,
        disabled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    portal_grants (id) {
        id -> Text,
        firm_id -> Text,
        portal_id -> Text,
        client_id -> Nullable<Text>,
        matter_id -> Nullable<Text>,
        granted_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        firm_id -> Text,
        portal_id -> Text,
        contact_id -> Text,
        client_id -> Nullable<Text>,
        email -> Text,
        token_hash -> Text,
        source -> Text,
        invited_by -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_sent_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    password_resets (token_hash) {
        token_hash -> Text,
        firm_id -> Text,
        contact_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    invoices (id) {
        id -> Text,
        firm_id -> Text,
        client_id -> Text,
        matter_id -> Nullable<Text>,
        number -> Text,
        external_id -> Nullable<Text>,
        issue_date -> Date,
        due_date -> Nullable<Date>,
        currency -> Text,
        total_minor -> BigInt,
        balance_minor -> BigInt,
        status -> Text,
        lines -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        viewed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    message_templates (id) {
        id -> Text,
        firm_id -> Text,
        name -> Text,
        subject -> Text,
        body -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    conversations (id) {
        id -> Text,
        firm_id -> Text,
        client_id -> Text,
        matter_id -> Nullable<Text>,
        contact_id -> Text,
        channel -> Nullable<Text>,
        subject -> Text,
        started_by_kind -> Text,
        started_by_id -> Text,
        last_message_id -> Text,
        last_staff_message_id -> Nullable<Text>,
        last_contact_message_id -> Nullable<Text>,
        created_at -> Timestamp,
        staff_messages -> BigInt,
        contact_messages -> BigInt,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        firm_id -> Text,
        conversation_id -> Text,
        author_kind -> Text,
        author_id -> Text,
        body -> Text,
        created_at -> Timestamp,
        side_seq -> BigInt,
    }
}

diesel::table! {
    conversation_reads (conversation_id, reader_id) {
        conversation_id -> Text,
        reader_id -> Text,
        firm_id -> Text,
        last_read_message_id -> Text,
        read_at -> Timestamp,
        read_other -> BigInt,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        firm_id -> Text,
        recipient_kind -> Text,
        recipient_id -> Text,
        kind -> Text,
        client_id -> Text,
        subject_type -> Text,
        subject_id -> Text,
        message_id -> Nullable<Text>,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    live_events (id) {
        id -> Text,
        firm_id -> Text,
        recipient_kind -> Text,
        recipient_id -> Text,
        kind -> Text,
        data -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    folders (id) {
        id -> Text,
        firm_id -> Text,
        client_id -> Text,
        matter_id -> Nullable<Text>,
        parent_id -> Nullable<Text>,
        name -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    documents (id) {
        id -> Text,
        firm_id -> Text,
        client_id -> Text,
        matter_id -> Nullable<Text>,
        folder_id -> Nullable<Text>,
        name -> Text,
        content_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        blob_key -> Text,
        visible_to_client -> Bool,
        uploaded_by -> Text,
        version -> BigInt,
        deleted_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        scan_status -> Text,
        scan_threat -> Nullable<Text>,
        scanned_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    scan_jobs (document_id) {
        document_id -> Text,
        firm_id -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    download_receipts (document_id, contact_id) {
        document_id -> Text,
        contact_id -> Text,
        firm_id -> Text,
        first_at -> Timestamp,
        last_at -> Timestamp,
        downloads -> BigInt,
    }
}

diesel::table! {
    shares (id) {
        id -> Text,
        firm_id -> Text,
        document_id -> Text,
        portal_id -> Text,
        contact_id -> Text,
        folder_id -> Nullable<Text>,
        message_id -> Nullable<Text>,
        shared_by -> Text,
        created_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        ended_by -> Nullable<Text>,
    }
}

diesel::table! {
    message_attachments (message_id, document_id) {
        message_id -> Text,
        document_id -> Text,
        firm_id -> Text,
    }
}

diesel::table! {
    signature_requests (id) {
        id -> Text,
        firm_id -> Text,
        document_id -> Text,
        contact_id -> Text,
        requested_by -> Text,
        status -> Text,
        signed_name -> Nullable<Text>,
        document_sha256 -> Nullable<Text>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        decline_reason -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    signature_certificates (signature_request_id) {
        signature_request_id -> Text,
        firm_id -> Text,
        json -> Text,
        pdf -> Binary,
        json_sha256 -> Text,
        pdf_sha256 -> Text,
        audit_event_id -> Text,
        issued_at -> Timestamp,
    }
}

diesel::table! {
    pending_blobs (blob_key) {
        blob_key -> Text,
        firm_id -> Text,
        started_at -> Timestamp,
    }
}

diesel::table! {
    file_transfers (id) {
        id -> Text,
        firm_id -> Text,
        client_id -> Text,
        matter_id -> Nullable<Text>,
        contact_id -> Text,
        portal_id -> Text,
        from_staff_id -> Text,
        sent_by -> Text,
        subject -> Text,
        delivery -> Text,
        conversation_id -> Text,
        message_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    file_transfer_files (transfer_id, document_id) {
        transfer_id -> Text,
        document_id -> Text,
        firm_id -> Text,
        signature_request_id -> Nullable<Text>,
    }
}

diesel::table! {
    access_links (id) {
        id -> Text,
        firm_id -> Text,
        client_id -> Text,
        matter_id -> Nullable<Text>,
        work_id -> Text,
        kind -> Text,
        enabled -> Bool,
        message -> Text,
        expires_at -> Timestamp,
        folder_id -> Nullable<Text>,
        max_uploads -> Integer,
        last_accessed_at -> Nullable<Timestamp>,
        created_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    link_guards (access_link_id) {
        access_link_id -> Text,
        token_nonce -> Text,
        token_hash -> Text,
        code_hash -> Text,
        failed_attempts -> Integer,
        locked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    link_sessions (token_hash) {
        token_hash -> Text,
        access_link_id -> Text,
        firm_id -> Text,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    link_downloads (document_id, access_link_id) {
        document_id -> Text,
        access_link_id -> Text,
        firm_id -> Text,
        first_at -> Timestamp,
        last_at -> Timestamp,
        downloads -> BigInt,
    }
}

diesel::table! {
    link_emails (id) {
        id -> Text,
        firm_id -> Text,
        access_link_id -> Text,
        contact_id -> Text,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        files -> Text,
        sent_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    payments (id) {
        id -> Text,
        firm_id -> Text,
        client_id -> Text,
        matter_id -> Nullable<Text>,
        external_id -> Nullable<Text>,
        amount_minor -> BigInt,
        refunded_minor -> BigInt,
        currency -> Text,
        received_on -> Date,
        method -> Text,
        reference -> Nullable<Text>,
        status -> Text,
        recorded_by_staff_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    card_charges (payment_id) {
        payment_id -> Text,
        processor -> Text,
        processor_ref -> Nullable<Text>,
        contact_id -> Text,
        payment_method_id -> Nullable<Text>,
        failure_reason -> Nullable<Text>,
        disputed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    payment_allocations (payment_id, invoice_id) {
        payment_id -> Text,
        invoice_id -> Text,
        position -> Integer,
        amount_minor -> BigInt,
        refunded_minor -> BigInt,
    }
}

diesel::table! {
    refunds (id) {
        id -> Text,
        firm_id -> Text,
        payment_id -> Text,
        client_id -> Text,
        matter_id -> Nullable<Text>,
        amount_minor -> BigInt,
        currency -> Text,
        refunded_on -> Date,
        reason -> Nullable<Text>,
        status -> Text,
        processor_ref -> Nullable<Text>,
        created_by_staff_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    payment_customers (contact_id, processor) {
        contact_id -> Text,
        processor -> Text,
        firm_id -> Text,
        customer_ref -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    payment_methods (id) {
        id -> Text,
        firm_id -> Text,
        contact_id -> Text,
        processor -> Text,
        processor_ref -> Text,
        brand -> Text,
        last4 -> Text,
        exp_month -> Integer,
        exp_year -> Integer,
        is_default -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    payment_setups (id) {
        id -> Text,
        firm_id -> Text,
        contact_id -> Text,
        processor -> Text,
        processor_ref -> Text,
        payment_method_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    processor_events (processor, event_id) {
        processor -> Text,
        event_id -> Text,
        event_type -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    document_requests (id) {
        id -> Text,
        firm_id -> Text,
        client_id -> Text,
        matter_id -> Nullable<Text>,
        contact_id -> Text,
        title -> Text,
        message -> Nullable<Text>,
        due_on -> Nullable<Date>,
        folder_id -> Nullable<Text>,
        status -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    document_request_items (id) {
        id -> Text,
        firm_id -> Text,
        request_id -> Text,
        position -> Integer,
        name -> Text,
        description -> Nullable<Text>,
        due_on -> Nullable<Date>,
        folder_id -> Nullable<Text>,
        status -> Text,
        return_reason -> Nullable<Text>,
        uploaded_at -> Nullable<Timestamp>,
        reviewed_at -> Nullable<Timestamp>,
        reviewed_by -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    document_request_uploads (document_id) {
        document_id -> Text,
        item_id -> Text,
        firm_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reminders_sent (subject_id, sent_on) {
        subject_id -> Text,
        sent_on -> Date,
        firm_id -> Text,
        rule -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    staff_invitations (id) {
        id -> Text,
        firm_id -> Text,
        email -> Text,
        name -> Text,
        role -> Text,
        portal_permission -> Bool,
        token_hash -> Text,
        invited_by -> Nullable<Text>,
        staff_id -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(portal_grants -> portals (portal_id));
diesel::joinable!(payment_allocations -> payments (payment_id));
diesel::joinable!(payment_allocations -> invoices (invoice_id));
diesel::joinable!(refunds -> payments (payment_id));
diesel::joinable!(card_charges -> payments (payment_id));
diesel::joinable!(messages -> conversations (conversation_id));
diesel::joinable!(invitations -> portals (portal_id));
diesel::joinable!(portals -> contacts (contact_id));
diesel::joinable!(deliveries -> outbox_events (event_id));
diesel::joinable!(deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(delivery_attempts -> deliveries (delivery_id));
diesel::joinable!(offices -> firms (firm_id));
diesel::joinable!(staff -> firms (firm_id));
diesel::joinable!(clients -> firms (firm_id));
diesel::joinable!(client_emails -> clients (client_id));
diesel::joinable!(client_assignees -> clients (client_id));
diesel::joinable!(client_assignees -> staff (staff_id));
diesel::joinable!(matters -> clients (client_id));
diesel::joinable!(matter_members -> matters (matter_id));
diesel::joinable!(matter_members -> staff (staff_id));
diesel::joinable!(link_guards -> access_links (access_link_id));
diesel::joinable!(sessions -> firms (firm_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(api_keys -> firms (firm_id));
diesel::joinable!(scan_jobs -> documents (document_id));

diesel::table! {
    rate_limits (bucket) {
        bucket -> Text,
        window_start -> BigInt,
        hits -> Integer,
        previous_hits -> Integer,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    firms,
    offices,
    staff,
    clients,
    client_emails,
    client_assignees,
    contacts,
    matters,
    matter_members,
    credentials,
    sessions,
    two_factor,
    recovery_codes,
    login_challenges,
    refresh_tokens,
    api_keys,
    audit_heads,
    audit_events,
    idempotency_keys,
    outbox_events,
    webhook_endpoints,
    deliveries,
    delivery_attempts,
    portals,
    portal_grants,
    invitations,
    staff_invitations,
    password_resets,
    invoices,
    message_templates,
    conversations,
    messages,
    conversation_reads,
    notifications,
    document_requests,
    document_request_items,
    document_request_uploads,
    reminders_sent,
    audit_checkpoints,
    live_events,
    folders,
    documents,
    pending_blobs,
    scan_jobs,
    download_receipts,
    shares,
    message_attachments,
    signature_requests,
    signature_certificates,
    file_transfers,
    file_transfer_files,
    access_links,
    link_guards,
    link_sessions,
    link_downloads,
    link_emails,
    payments,
    card_charges,
    payment_allocations,
    refunds,
    payment_customers,
    payment_methods,
    payment_setups,
    processor_events,
    rate_limits,
);
