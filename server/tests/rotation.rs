//! The key change after a member is removed, through the real router and a real SQLite database,
//! with the client's half done by the shared keyring (docs/accounts.md, "Removing a member: the
//! key change"): removal notes the member; the new key goes to exactly the remaining holders and
//! the recovery key; batches re-wrap only what is still under the old key, so a closed tab resumes
//! and two tabs at once do no harm; every refused request changes nothing.

mod common;

use axum::http::{Method, StatusCode};
use cloister_shared::api::keys::{
    RewrapBatchRequest, RotationBatch, RotationPlan, RotationProgress, StartRotationRequest,
};
use cloister_shared::api::Role;
use cloister_shared::crypto::member::{
    open_library_key, seal_library_key, unwrap_previous_library_key, MemberSecretKey,
    SealedLibraryKey,
};
use cloister_shared::keyring::{rewrap_batch, start_rotation, Unlocked};
use cloister_shared::{unwrap_dek, wrap_dek, Dek, KdfParams, LibraryKey, VideoId, WrappedKey};
use common::{message, TestApp};
use serde_json::{json, Value};

/// A library in members mode: root (admin), bob and mallory hold generation 1; carol has keys but
/// waits for access; a recovery key is set; `videos` videos of root's (the first one trashed).
struct Library {
    app: TestApp,
    root: String,
    bob: String,
    carol: String,
    mallory: String,
    root_key: MemberSecretKey,
    bob_key: MemberSecretKey,
    recovery_key: MemberSecretKey,
    unlocked: Unlocked,
    videos: Vec<(VideoId, Dek)>,
}

async fn user_id(app: &TestApp, username: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(&app.state.db)
        .await
        .expect("user id")
}

async fn give_keys(app: &TestApp, username: &str) -> MemberSecretKey {
    let secret = MemberSecretKey::generate().expect("key pair");
    let params = KdfParams::default();
    // The server never opens the wrapped private key, so any bytes of the right length do here.
    sqlx::query(
        "INSERT INTO member_keys (user_id, public_key, kdf_salt, kdf_m_cost_kib, kdf_t_cost,
                                  kdf_p_cost, wrapped_private_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
    )
    .bind(user_id(app, username).await)
    .bind(secret.public_key().as_bytes().as_slice())
    .bind([1u8; 16].as_slice())
    .bind(i64::from(params.m_cost_kib))
    .bind(i64::from(params.t_cost))
    .bind(i64::from(params.p_cost))
    .bind([2u8; WrappedKey::LEN].as_slice())
    .execute(&app.state.db)
    .await
    .expect("member keys");
    secret
}

async fn grant(app: &TestApp, username: &str, secret: &MemberSecretKey, key: &LibraryKey) {
    let sealed = seal_library_key(&secret.public_key(), key, 1).expect("seal");
    sqlx::query(
        "INSERT INTO library_grants (user_id, generation, public_key, sealed_library_key,
                                     granted_at)
         VALUES ($1, 1, $2, $3, 0)",
    )
    .bind(user_id(app, username).await)
    .bind(secret.public_key().as_bytes().as_slice())
    .bind(sealed.to_bytes().as_slice())
    .execute(&app.state.db)
    .await
    .expect("grant");
}

async fn add_video(app: &TestApp, owner: &str, key: &LibraryKey, trashed: bool) -> (VideoId, Dek) {
    let id = VideoId::random().expect("id");
    let dek = Dek::generate().expect("dek");
    let wrapped = wrap_dek(key, &id, &dek).expect("wrap");
    sqlx::query(
        "INSERT INTO videos (id, owner_id, status, size_bytes, created_at, updated_at, wrapped_dek,
                             title_sealed, stream_header, chunk_size, chunk_count, key_generation,
                             trashed_at)
         VALUES ($1, $2, 'ready', 1, 0, 0, $3, $4, $4, 1, 1, 1, $5)",
    )
    .bind(id.to_string())
    .bind(user_id(app, owner).await)
    .bind(wrapped.to_bytes().as_slice())
    .bind([0u8].as_slice())
    .bind(trashed.then_some(1_i64))
    .execute(&app.state.db)
    .await
    .expect("video");
    (id, dek)
}

impl Library {
    async fn new(videos: usize) -> Self {
        let app = TestApp::spawn().await;
        let root = app.signed_in("root", Role::Admin).await;
        let bob = app.signed_in("bob", Role::Member).await;
        let carol = app.signed_in("carol", Role::Member).await;
        let mallory = app.signed_in("mallory", Role::Member).await;
        let library_key = LibraryKey::generate().expect("library key");
        let recovery_key = MemberSecretKey::generate().expect("recovery key");
        let recovery_sealed =
            seal_library_key(&recovery_key.public_key(), &library_key, 1).expect("seal");
        sqlx::query(
            "INSERT INTO library (id, key_generation, recovery_public_key, recovery_sealed_key,
                                  created_at, updated_at)
             VALUES (1, 1, $1, $2, 0, 0)",
        )
        .bind(recovery_key.public_key().as_bytes().as_slice())
        .bind(recovery_sealed.to_bytes().as_slice())
        .execute(&app.state.db)
        .await
        .expect("library");
        let root_key = give_keys(&app, "root").await;
        let bob_key = give_keys(&app, "bob").await;
        let mallory_key = give_keys(&app, "mallory").await;
        give_keys(&app, "carol").await;
        for (name, secret) in [
            ("root", &root_key),
            ("bob", &bob_key),
            ("mallory", &mallory_key),
        ] {
            grant(&app, name, secret, &library_key).await;
        }
        let mut list = Vec::new();
        for i in 0..videos {
            list.push(add_video(&app, "root", &library_key, i == 0).await);
        }
        let unlocked = Unlocked {
            generation: 1,
            library_key,
            previous: None,
            secret: Some(root_key.clone()),
        };
        Self {
            app,
            root,
            bob,
            carol,
            mallory,
            root_key,
            bob_key,
            recovery_key,
            unlocked,
            videos: list,
        }
    }

    async fn call(
        &self,
        method: Method,
        uri: &str,
        who: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (status, _, body) = self.app.call(method, uri, Some(who), body).await;
        (status, body)
    }

    async fn remove_mallory(&self) {
        let (status, body) = self
            .call(Method::DELETE, "/api/admin/users/mallory", &self.root, None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }

    async fn plan(&self) -> RotationPlan {
        let (status, body) = self
            .call(Method::GET, "/api/library/rotation", &self.root, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_value(body).expect("plan")
    }

    async fn start(&self, request: &StartRotationRequest) -> (StatusCode, Value) {
        let body = serde_json::to_value(request).expect("json");
        self.call(
            Method::POST,
            "/api/library/rotation",
            &self.root,
            Some(body),
        )
        .await
    }

    /// Starts a key change as the admin's browser does; answers what the browser then holds.
    async fn started(&self) -> Unlocked {
        let (request, next) = start_rotation(&self.unlocked, &self.plan().await).expect("start");
        let (status, body) = self.start(&request).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        next
    }

    async fn batch(&self, limit: u32) -> RotationBatch {
        let (status, body) = self
            .call(
                Method::GET,
                &format!("/api/library/rotation/batch?limit={limit}"),
                &self.root,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_value(body).expect("batch")
    }

    async fn post(&self, request: &RewrapBatchRequest) -> (StatusCode, Value) {
        let body = serde_json::to_value(request).expect("json");
        self.call(
            Method::POST,
            "/api/library/rotation/batch",
            &self.root,
            Some(body),
        )
        .await
    }

    async fn posted(&self, request: &RewrapBatchRequest) -> RotationProgress {
        let (status, body) = self.post(request).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_value(body).expect("progress")
    }

    /// Everything about the keys the server stores, to show a refused request changed nothing.
    async fn snapshot(&self) -> Vec<String> {
        let db = &self.app.state.db;
        let library: (i64, Option<Vec<u8>>, Option<Vec<u8>>, String) = sqlx::query_as(
            "SELECT key_generation, recovery_sealed_key, previous_wrapped_key, rotation_needed_for
             FROM library",
        )
        .fetch_one(db)
        .await
        .expect("library");
        let grants: Vec<(i64, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT user_id, generation, sealed_library_key FROM library_grants
             ORDER BY user_id, generation",
        )
        .fetch_all(db)
        .await
        .expect("grants");
        let videos: Vec<(String, i64, Vec<u8>)> =
            sqlx::query_as("SELECT id, key_generation, wrapped_dek FROM videos ORDER BY id")
                .fetch_all(db)
                .await
                .expect("videos");
        let rotations: Vec<(i64, Option<i64>)> =
            sqlx::query_as("SELECT to_generation, finished_at FROM key_rotations")
                .fetch_all(db)
                .await
                .expect("rotations");
        vec![
            format!("{library:?}"),
            format!("{grants:?}"),
            format!("{videos:?}"),
            format!("{rotations:?}"),
        ]
    }

    /// Every video's key opens with `key` (and the generation column says so).
    async fn all_open_with(&self, key: &LibraryKey, generation: i64) {
        for (id, dek) in &self.videos {
            let (wrapped, at): (Vec<u8>, i64) =
                sqlx::query_as("SELECT wrapped_dek, key_generation FROM videos WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_one(&self.app.state.db)
                    .await
                    .expect("video");
            assert_eq!(at, generation, "video {id}");
            let wrapped = WrappedKey::from_bytes(&wrapped).expect("wrapped");
            let opened = unwrap_dek(key, id, &wrapped).expect("opens with the new key");
            assert_eq!(opened.as_bytes(), dek.as_bytes());
        }
    }

    async fn key_changed_events(&self) -> Vec<Value> {
        let payloads: Vec<String> = sqlx::query_scalar(
            "SELECT payload FROM job_events WHERE payload LIKE '%library_key_changed%' ORDER BY seq",
        )
        .fetch_all(&self.app.state.db)
        .await
        .expect("events");
        payloads
            .iter()
            .map(|p| serde_json::from_str(p).expect("event"))
            .collect()
    }

    /// Runs batches of `limit` to the end, as the admin's browser does.
    async fn run_to_the_end(&self, next: &Unlocked, limit: u32) -> RotationProgress {
        loop {
            let batch = self.batch(limit).await;
            let progress = self
                .posted(&rewrap_batch(next, &batch).expect("rewrap"))
                .await;
            if progress.finished {
                return progress;
            }
        }
    }
}

#[tokio::test]
async fn removal_notes_the_member_and_a_key_change_reaches_everyone_left_and_then_finishes() {
    let lib = Library::new(5).await;
    // mallory made a share link; her session works until she is removed.
    sqlx::query(
        "INSERT INTO shares (id, video_id, created_by, wrapped_key, allow_download, created_at)
         VALUES ($1, $2, $3, $4, 0, 0)",
    )
    .bind("ab".repeat(16))
    .bind(lib.videos[1].0.to_string())
    .bind(user_id(&lib.app, "mallory").await)
    .bind([3u8; WrappedKey::LEN].as_slice())
    .execute(&lib.app.state.db)
    .await
    .expect("share");
    let (status, _) = lib
        .call(Method::GET, "/api/videos", &lib.mallory, None)
        .await;
    assert_eq!(status, StatusCode::OK);

    lib.remove_mallory().await;
    let (status, _) = lib
        .call(Method::GET, "/api/videos", &lib.mallory, None)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "her old session is refused"
    );
    let left: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM shares), (SELECT COUNT(*) FROM member_keys),
                (SELECT COUNT(*) FROM library_grants)",
    )
    .fetch_one(&lib.app.state.db)
    .await
    .expect("counts");
    assert_eq!(
        left,
        (0, 3, 2),
        "her share link, keys and grant went with her"
    );

    let plan = lib.plan().await;
    assert_eq!(plan.generation, 1);
    assert_eq!(plan.needed_for, vec!["mallory".to_owned()]);
    let holders: Vec<_> = plan.holders.iter().map(|h| h.username.as_str()).collect();
    assert_eq!(
        holders,
        ["bob", "root"],
        "carol waits, so she is not a holder"
    );
    assert_eq!(
        plan.recovery_public_key,
        Some(lib.recovery_key.public_key())
    );
    assert!(plan.running.is_none());

    let (request, next) = start_rotation(&lib.unlocked, &plan).expect("start");
    let (status, body) = lib.start(&request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let progress: RotationProgress = serde_json::from_value(body).expect("progress");
    assert_eq!(
        (
            progress.from_generation,
            progress.to_generation,
            progress.done,
            progress.total
        ),
        (1, 2, 0, 5)
    );
    assert_eq!(progress.started_by.as_deref(), Some("root"));
    assert!(!progress.finished);

    // The new key is bob's and the recovery key's now, for generation 2 only; the old grants are
    // gone; the previous key is kept wrapped under the new one.
    let sealed: Vec<(String, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT u.username, g.generation, g.sealed_library_key FROM library_grants g
         JOIN users u ON u.id = g.user_id ORDER BY u.username",
    )
    .fetch_all(&lib.app.state.db)
    .await
    .expect("grants");
    assert_eq!(sealed.len(), 2);
    let bob_grant = SealedLibraryKey::from_bytes(&sealed[0].2).expect("sealed");
    assert_eq!((sealed[0].0.as_str(), sealed[0].1), ("bob", 2));
    let bob_opens = open_library_key(&lib.bob_key, &bob_grant, 2).expect("bob's new grant");
    assert_eq!(bob_opens.as_bytes(), next.library_key.as_bytes());
    let root_grant = SealedLibraryKey::from_bytes(&sealed[1].2).expect("sealed");
    open_library_key(&lib.root_key, &root_grant, 2).expect("root's new grant");
    let (recovery, previous): (Vec<u8>, Vec<u8>) =
        sqlx::query_as("SELECT recovery_sealed_key, previous_wrapped_key FROM library")
            .fetch_one(&lib.app.state.db)
            .await
            .expect("library");
    let recovery = SealedLibraryKey::from_bytes(&recovery).expect("sealed");
    let by_recovery = open_library_key(&lib.recovery_key, &recovery, 2).expect("recovery");
    assert_eq!(by_recovery.as_bytes(), next.library_key.as_bytes());
    let previous = WrappedKey::from_bytes(&previous).expect("wrapped");
    let old = unwrap_previous_library_key(&bob_opens, 2, &previous).expect("previous");
    assert_eq!(old.as_bytes(), lib.unlocked.library_key.as_bytes());
    assert_eq!(
        lib.plan().await.running.map(|r| (r.done, r.total)),
        Some((0, 5))
    );

    // Batches of two, trashed video included, then the end.
    let first = lib.batch(2).await;
    assert_eq!(first.items.len(), 2);
    assert_eq!(first.to_generation, 2);
    let after_first = lib
        .posted(&rewrap_batch(&next, &first).expect("rewrap"))
        .await;
    assert_eq!((after_first.done, after_first.finished), (2, false));
    let done = lib.run_to_the_end(&next, 2).await;
    assert_eq!((done.done, done.total, done.finished), (5, 5, true));
    lib.all_open_with(&next.library_key, 2).await;

    let (previous, needed): (Option<Vec<u8>>, String) =
        sqlx::query_as("SELECT previous_wrapped_key, rotation_needed_for FROM library")
            .fetch_one(&lib.app.state.db)
            .await
            .expect("library");
    assert_eq!((previous, needed.as_str()), (None, "[]"));
    let plan = lib.plan().await;
    assert!(plan.running.is_none() && plan.needed_for.is_empty());
    assert_eq!(plan.generation, 2);
    let events = lib.key_changed_events().await;
    assert_eq!(
        events.len(),
        2,
        "one at the start, one at the end: {events:?}"
    );

    // Nothing runs now: a batch is refused in plain words.
    let (status, body) = lib
        .call(Method::GET, "/api/library/rotation/batch", &lib.root, None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(message(&body), "No key change is running.");
}

#[tokio::test]
async fn a_second_key_change_is_refused_while_one_is_unfinished() {
    let lib = Library::new(3).await;
    lib.remove_mallory().await;
    let next = lib.started().await;
    let before = lib.snapshot().await;

    // A second tab that had not heard of the first start.
    let stale_plan = RotationPlan {
        generation: 1,
        running: None,
        ..lib.plan().await
    };
    let (request, _) = start_rotation(&lib.unlocked, &stale_plan).expect("start");
    let (status, body) = lib.start(&request).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        message(&body),
        "A key change is already running. Finish it first."
    );
    assert_eq!(
        lib.snapshot().await,
        before,
        "the refused start changed nothing"
    );

    // Finishing the first lets the next one start.
    lib.run_to_the_end(&next, 200).await;
    let (request, _) = start_rotation(&next, &lib.plan().await).expect("start");
    let (status, body) = lib.start(&request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_key_change_from_a_generation_that_is_not_current_is_refused() {
    let lib = Library::new(2).await;
    let (mut request, _) = start_rotation(&lib.unlocked, &lib.plan().await).expect("start");
    request.from_generation = 7;
    let before = lib.snapshot().await;
    let (status, body) = lib.start(&request).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        message(&body).starts_with("The library key has changed since you unlocked"),
        "{body}"
    );
    assert_eq!(lib.snapshot().await, before);
}

#[tokio::test]
async fn the_new_key_must_go_to_exactly_the_members_who_hold_the_current_one() {
    let lib = Library::new(2).await;
    lib.remove_mallory().await;
    let plan = lib.plan().await;
    let (request, _) = start_rotation(&lib.unlocked, &plan).expect("start");
    let before = lib.snapshot().await;

    // bob's grant left out: he would be locked out.
    let mut missing = request.clone();
    missing.grants.retain(|g| g.username != "bob");
    let (status, body) = lib.start(&missing).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        message(&body).starts_with("bob has access but no new key"),
        "{body}"
    );

    // bob's grant sealed to another key (a stale page, or someone else's key replayed).
    let mut wrong_key = request.clone();
    let stranger = MemberSecretKey::generate().expect("key");
    for g in &mut wrong_key.grants {
        if g.username == "bob" {
            g.public_key = stranger.public_key();
        }
    }
    let (status, body) = lib.start(&wrong_key).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message(&body).contains("no longer theirs"), "{body}");

    // carol waits for access: a key change cannot let her in.
    let mut extra = request.clone();
    let mut for_carol = extra.grants[0].clone();
    for_carol.username = "carol".into();
    extra.grants.push(for_carol);
    let (status, body) = lib.start(&extra).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        message(&body).starts_with("carol does not have access"),
        "{body}"
    );

    // The same member twice, and the recovery key left out.
    let mut twice = request.clone();
    twice.grants.push(twice.grants[0].clone());
    let (status, _) = lib.start(&twice).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let mut no_recovery = request.clone();
    no_recovery.recovery_sealed_library_key = None;
    let (status, body) = lib.start(&no_recovery).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&body).contains("recovery key"), "{body}");

    assert_eq!(
        lib.snapshot().await,
        before,
        "no refused start changed anything"
    );
    let (status, body) = lib.start(&request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn members_cannot_see_or_run_a_key_change() {
    let lib = Library::new(2).await;
    let (request, _) = start_rotation(&lib.unlocked, &lib.plan().await).expect("start");
    let start = serde_json::to_value(&request).expect("json");
    let before = lib.snapshot().await;
    for who in [&lib.bob, &lib.carol] {
        let calls = [
            (Method::GET, "/api/library/rotation", None),
            (Method::POST, "/api/library/rotation", Some(start.clone())),
            (Method::GET, "/api/library/rotation/batch", None),
            (
                Method::POST,
                "/api/library/rotation/batch",
                Some(json!({"to_generation": 2, "items": []})),
            ),
        ];
        for (method, uri, body) in calls {
            let (status, _) = lib.call(method.clone(), uri, who, body).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {uri}");
        }
    }
    let (status, _, _) = lib
        .app
        .call(Method::POST, "/api/library/rotation", None, Some(start))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(lib.snapshot().await, before);

    // The admin's own start still works afterwards.
    let (status, body) = lib.start(&request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn an_interrupted_key_change_resumes_from_what_the_server_stored() {
    let lib = Library::new(5).await;
    lib.remove_mallory().await;
    let next = lib.started().await;
    let first = lib.batch(2).await;
    lib.posted(&rewrap_batch(&next, &first).expect("rewrap"))
        .await;
    // A batch fetched but never posted: the tab closed.
    lib.batch(2).await;
    drop(next);

    // A new tab: the admin unlocks again from what the server has (grant of generation 2, the
    // previous key) and carries on where the rotation stands.
    let plan = lib.plan().await;
    let running = plan.running.expect("still running");
    assert_eq!((running.done, running.total), (2, 5));
    let grant: Vec<u8> = sqlx::query_scalar(
        "SELECT sealed_library_key FROM library_grants g JOIN users u ON u.id = g.user_id
         WHERE u.username = 'root' AND g.generation = 2",
    )
    .fetch_one(&lib.app.state.db)
    .await
    .expect("grant");
    let library_key = open_library_key(
        &lib.root_key,
        &SealedLibraryKey::from_bytes(&grant).expect("sealed"),
        2,
    )
    .expect("open");
    let previous: Vec<u8> = sqlx::query_scalar("SELECT previous_wrapped_key FROM library")
        .fetch_one(&lib.app.state.db)
        .await
        .expect("previous");
    let previous = unwrap_previous_library_key(
        &library_key,
        2,
        &WrappedKey::from_bytes(&previous).expect("wrapped"),
    )
    .expect("previous");
    let resumed = Unlocked {
        generation: 2,
        library_key,
        previous: Some(previous),
        secret: Some(lib.root_key.clone()),
    };
    let done = lib.run_to_the_end(&resumed, 200).await;
    assert_eq!((done.done, done.total, done.finished), (5, 5, true));
    lib.all_open_with(&resumed.library_key, 2).await;
}

#[tokio::test]
async fn a_rewrap_of_a_video_no_longer_under_the_previous_key_changes_nothing() {
    let lib = Library::new(3).await;
    let next = lib.started().await;
    let batch = lib.batch(1).await;
    let request = rewrap_batch(&next, &batch).expect("rewrap");
    lib.posted(&request).await;
    let before = lib.snapshot().await;

    // The same video again, wrapped under a key nobody has: already re-wrapped, so left alone;
    // and a video that does not exist.
    let mut replay = request.clone();
    let stranger = LibraryKey::generate().expect("key");
    let (id, dek) = lib
        .videos
        .iter()
        .find(|(id, _)| *id == replay.items[0].video_id)
        .expect("a seeded video");
    replay.items[0].wrapped_dek = wrap_dek(&stranger, id, dek).expect("wrap");
    let mut gone = replay.items[0].clone();
    gone.video_id = VideoId::random().expect("id");
    replay.items.push(gone);
    let progress = lib.posted(&replay).await;
    assert_eq!((progress.done, progress.finished), (1, false));
    assert_eq!(lib.snapshot().await, before);

    // A batch for another generation is refused; so is a video twice in one batch.
    let mut other = request.clone();
    other.to_generation = 3;
    let (status, body) = lib.post(&other).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message(&body).contains("generation 3"), "{body}");
    let mut twice = request.clone();
    twice.items.push(twice.items[0].clone());
    let (status, _) = lib.post(&twice).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = lib
        .call(
            Method::GET,
            "/api/library/rotation/batch?limit=0",
            &lib.root,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = lib
        .call(
            Method::GET,
            "/api/library/rotation/batch?limit=many",
            &lib.root,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(lib.snapshot().await, before);
}

#[tokio::test]
async fn two_tabs_running_batches_at_once_finish_once_with_every_key_rewrapped() {
    let lib = Library::new(40).await;
    lib.remove_mallory().await;
    let next = lib.started().await;
    let run = || async {
        loop {
            let (status, body) = lib
                .call(
                    Method::GET,
                    "/api/library/rotation/batch?limit=7",
                    &lib.root,
                    None,
                )
                .await;
            if status == StatusCode::CONFLICT {
                return; // the other tab finished it
            }
            assert_eq!(status, StatusCode::OK, "{body}");
            let batch: RotationBatch = serde_json::from_value(body).expect("batch");
            let progress = lib
                .posted(&rewrap_batch(&next, &batch).expect("rewrap"))
                .await;
            if progress.finished {
                return;
            }
        }
    };
    tokio::join!(run(), run());
    lib.all_open_with(&next.library_key, 2).await;
    let finished: Vec<Option<i64>> = sqlx::query_scalar("SELECT finished_at FROM key_rotations")
        .fetch_all(&lib.app.state.db)
        .await
        .expect("rotations");
    assert!(finished.len() == 1 && finished[0].is_some());
    assert_eq!(lib.key_changed_events().await.len(), 2, "finished once");
    // A late batch from the slower tab is answered with the finished progress.
    let late = RewrapBatchRequest {
        to_generation: 2,
        items: vec![],
    };
    let progress = lib.posted(&late).await;
    assert!(progress.finished && progress.done == 40);
}

#[tokio::test]
async fn a_library_without_videos_changes_key_at_once() {
    let lib = Library::new(0).await;
    lib.remove_mallory().await;
    let (request, _) = start_rotation(&lib.unlocked, &lib.plan().await).expect("start");
    let (status, body) = lib.start(&request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let progress: RotationProgress = serde_json::from_value(body).expect("progress");
    assert!(progress.finished && progress.total == 0);
    let plan = lib.plan().await;
    assert!(plan.running.is_none() && plan.needed_for.is_empty());
}
