"""FaceFlow albums: storage, the single table, the pipeline and the album API function.

Each function has its own role with only what its code does (statements below, one per need);
the API stack mounts the API functions on the REST API (their routes are their resolvers':
style_backend.edge.api.routes, `AlbumsApiFunction`, `AlbumPeopleApiFunction`). Zip functions get
SharedLayer (style_backend, faceflow's pure modules, Powertools, pydantic); those that decode
photos, find faces or cluster them run in the FaceFlow image (lambda/albums/Dockerfile).
Sharing (the share API, the exporter, CloudFront, SES) is its own part,
stacks/albums/sharing.py: it needs the exports bucket's policy and key.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from faceflow.config import AlbumEnv
from stacks.albums import grants
from stacks.albums.grants import KMS_ACTIONS
from stacks.albums.pipeline import AlbumPipeline
from stacks.albums.sharing import AlbumSharing
from stacks.albums.storage import AlbumStorage
from stacks.albums.table import LSI1, AlbumTable
from stacks.settings import Settings
from stacks.shared import ProjectFunction, ProjectStack, SharedLayer
from style_backend.config import EnvVar
from style_backend.edge.api.routes import API_FUNCTIONS, location

ALBUM_FUNCTION = "AlbumsApiFunction"  # style_backend.edge.api.routes.API_FUNCTIONS
PEOPLE_FUNCTION = "AlbumPeopleApiFunction"
GROUP, API_MODULE = location(API_FUNCTIONS[ALBUM_FUNCTION])  # lambda/albums, album_api
_, PEOPLE_MODULE = location(API_FUNCTIONS[PEOPLE_FUNCTION])  # lambda/albums, people_api
# The FaceFlow image (numpy, OpenCV, scikit-learn, faiss): functions that decode or cluster.
FACE_IMAGE = f"{GROUP}/Dockerfile"
ALBUM_BUCKET_ENV = {
    "Raw": AlbumEnv.RAW_BUCKET,
    "Derived": AlbumEnv.DERIVED_BUCKET,
    "Embeddings": AlbumEnv.EMBEDDINGS_BUCKET,
    "Exports": AlbumEnv.EXPORTS_BUCKET,
}


class AlbumsStack(ProjectStack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        operations_topic: sns.ITopic,
        **kw,
    ) -> None:
        super().__init__(scope, construct_id, **kw)
        self._settings = settings
        self.layer = SharedLayer(self, "AlbumsSharedLayer")
        self.storage = AlbumStorage(self, "Storage", settings=settings)
        self.table = AlbumTable(self, "Table", settings=settings, key=self.storage.key)
        self.notify_topic = sns.Topic(
            self, "NotifyTopic", master_key=self.storage.key, enforce_ssl=True
        )
        self.album_env = self._album_env(settings)
        self.pipeline = AlbumPipeline(
            self,
            "Pipeline",
            settings=settings,
            raw=self.storage.raw,
            make_function=self._function,
            operations_topic=operations_topic,
        )
        self._grant_pipeline()
        self._api_functions(settings, operations_topic)

    def _api_functions(self, settings: Settings, operations_topic: sns.ITopic) -> None:
        """The album, people and share API functions the API stack mounts (`api_functions`)."""
        self.api = self._function(
            ALBUM_FUNCTION,
            f"{API_MODULE}.handler",
            "Album API: albums, uploads (PUT / multipart), photos, status, deletion",
            memory_size=512,
            timeout=cdk.Duration.seconds(29),
            environment={EnvVar.CORS_ALLOWED_ORIGINS: settings.cors_allowed_origins},
        )
        self._grant_api(self.api)
        self.people_api = self._function(
            PEOPLE_FUNCTION,
            f"{PEOPLE_MODULE}.handler",
            "Album people API: clusters, label, merge, split, undo, suggestions",
            memory_size=1024,
            timeout=cdk.Duration.seconds(29),
            environment={EnvVar.CORS_ALLOWED_ORIGINS: settings.cors_allowed_origins},
            image=True,
        )
        self._grant_people_api(self.people_api)
        self.pipeline.cluster_writer.grant_recluster_requests(self.people_api)
        self.sharing = AlbumSharing(self, "Sharing", albums=self, operations_topic=operations_topic)
        self.api_functions: Mapping[str, lambda_.IFunction] = {
            ALBUM_FUNCTION: self.api.function,
            PEOPLE_FUNCTION: self.people_api.function,
            **self.sharing.api_functions,
        }

    def _album_env(self, settings: Settings) -> dict:
        return {
            AlbumEnv.TABLE: self.table.table_name,
            **{
                env: self.storage.buckets[name].bucket_name
                for name, env in ALBUM_BUCKET_ENV.items()
            },
            AlbumEnv.MAX_PHOTO_BYTES: str(settings.album_max_photo_bytes),
            AlbumEnv.PART_SIZE_BYTES: str(settings.album_part_size_bytes),
            AlbumEnv.UPLOAD_URL_EXPIRY_SECONDS: str(settings.album_upload_url_expiry_seconds),
            AlbumEnv.THUMBNAIL_URL_EXPIRY_SECONDS: str(settings.result_url_expiry_seconds),
        }

    # ------------------------------------------------------------------ functions

    def _function(
        self,
        construct_id: str,
        handler: str,
        description: str,
        *,
        memory_size: int = 256,
        timeout: cdk.Duration | None = None,
        environment: Mapping | None = None,
        group: str = GROUP,
        image: bool = False,
    ) -> ProjectFunction:
        fn = ProjectFunction(
            self,
            construct_id,
            handler=handler,
            group=group,
            settings=self._settings,
            layers=[] if image else [self.layer],
            image=FACE_IMAGE if image else None,
            environment={**self.album_env, **(environment or {})},
            description=description,
            memory_size=memory_size,
            timeout=timeout,
        )
        fn.allow("AlbumKey", KMS_ACTIONS, [self.storage.key.key_arn])
        return fn

    def _table(self, fn: ProjectFunction, *actions: str, lsi: bool = False) -> None:
        fn.allow_table("Album", self.table, *actions, indexes=[LSI1] if lsi else [])

    _objects = staticmethod(grants.objects)
    _listing = staticmethod(grants.listing)

    def _grant_pipeline(self) -> None:
        p, raw, derived = self.pipeline, self.storage.raw, self.storage.derived
        self._grant_starter(p.starter)
        process = p.functions["ProcessPhoto"]  # faceflow.edge.photo_steps
        self._table(process, "GetItem", "PutItem", "UpdateItem", "Query")
        self._objects(process, "ReadRawPhotos", ["s3:GetObject"], raw)
        self._listing(process, "ListRaw", "s3:ListBucket", raw)  # 404, not 403, when gone
        # Thumbnails and crops; reading crops back: a retry that starts past the faces stage.
        self._objects(process, "WriteThumbnailsAndCrops", ["s3:PutObject", "s3:GetObject"], derived)
        embeddings = self.storage.embeddings
        self._objects(process, "WriteFaceVectors", ["s3:PutObject"], embeddings)
        dedupe = p.functions["Dedupe"]
        self._table(dedupe, "Query", "GetItem", "PutItem", "UpdateItem", "DeleteItem")
        self._objects(dedupe, "ReadThumbnails", ["s3:GetObject"], derived)
        self._objects(dedupe, "ReadFaceVectors", ["s3:GetObject"], embeddings)
        self._grant_people_writer(p.cluster_writer.function)
        notify = p.functions["Notify"]
        self._table(notify, "GetItem", "Query", "UpdateItem")
        notify.allow("PublishJobDone", ["sns:Publish"], [self.notify_topic.topic_arn])
        notify.function.add_environment(
            AlbumEnv.NOTIFY_TOPIC_ARN.value, self.notify_topic.topic_arn
        )
        self._objects(notify, "PurgeOriginals", ["s3:DeleteObject"], raw)
        self._table(p.functions["FailJob"], "Query", "UpdateItem")
        self._grant_cleanup()

    def _grant_starter(self, starter: ProjectFunction) -> None:
        """The starter moves each upload (raw incoming/) to its photo's raw key, or deletes it:
        faceflow.edge.starter.receive_upload. Deleting under tenant/: the copy it made for an album
        deleted meanwhile; DeleteItem: the job item it wrote for one."""
        raw = self.storage.raw
        self._table(starter, "GetItem", "Query", "UpdateItem", "PutItem", "DeleteItem")
        upload_actions = ["s3:GetObject", "s3:DeleteObject"]
        self._objects(starter, "TakeUploads", upload_actions, raw, under=grants.UPLOAD_OBJECTS)
        self._listing(starter, "ListUploads", "s3:ListBucket", raw, under=grants.UPLOAD_OBJECTS)
        self._objects(starter, "StoreOriginals", ["s3:PutObject", "s3:DeleteObject"], raw)

    def _grant_cleanup(self) -> None:
        """A step that finds its album deleted after its last write deletes what it wrote (the
        deletion may have listed the album before): faceflow.edge.pipeline,
        faceflow.edge.photo_steps, faceflow.storage.people (the cluster writer's records are its
        people grant)."""
        p, derived, embeddings = self.pipeline, self.storage.derived, self.storage.embeddings
        p.functions["Dedupe"].allow_table("AlbumCleanup", self.table, "DeleteItem")  # its claims
        process = p.functions["ProcessPhoto"]  # its thumbnail and faces
        self._objects(process, "DeleteOwnFaces", ["s3:DeleteObject"], derived, embeddings)
        process.allow_table("AlbumCleanup", self.table, "DeleteItem")

    def _grant_api(self, fn: ProjectFunction) -> None:
        raw, derived = self.storage.raw, self.storage.derived
        actions = ("GetItem", "PutItem", "UpdateItem", "Query", "DeleteItem", "BatchWriteItem")
        self._table(fn, *actions, lsi=True)
        # Presigned PUT / multipart parts are signed with this role: it must be allowed them.
        # They write to the raw bucket's incoming/ only, never to an original.
        self._objects(
            fn,
            "UploadRawPhotos",
            ["s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts"],
            raw,
            under=grants.UPLOAD_OBJECTS,
        )
        self._objects(fn, "ReadThumbnails", ["s3:GetObject"], derived)
        self.grant_album_deletion(fn, *self.storage.buckets.values(), uploads=raw)
        self.pipeline.grant_start_jobs(fn)  # a photo released from DUPLICATE

    def _grant_people_writer(self, fn: ProjectFunction) -> None:
        """A writer of the album's people records (faceflow.storage.people): reads them (LSI1:
        clusters largest first), writes them in transactions or batches, deletes what a change
        removes; its large changes' intents and the photos' face vectors in embeddings."""
        actions = (
            "GetItem",
            "BatchGetItem",
            "Query",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "BatchWriteItem",
        )
        fn.allow_table("Album", self.table, *actions, indexes=[LSI1])
        self._objects(
            fn,
            "PeopleObjects",
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            self.storage.embeddings,
        )
        self._listing(fn, "ListPeopleObjects", "s3:ListBucket", self.storage.embeddings)

    def _grant_people_api(self, fn: ProjectFunction) -> None:
        self._grant_people_writer(fn)
        self._objects(fn, "ReadFaceCrops", ["s3:GetObject"], self.storage.derived)

    def grant_album_deletion(
        self, fn: ProjectFunction, *every: s3.IBucket | str, uploads: s3.IBucket | str
    ) -> None:
        """What deleting albums needs (the album API, and the user erasure of the styling flow):
        every album object of every bucket (buckets, or their ARNs from another stack), and the
        uploads under the raw bucket (`uploads`)'s incoming/ prefix."""
        grants.prefix_deletion(fn, *every, uploads=uploads)

    def grant_user_erasure(self, fn: ProjectFunction) -> None:
        """The styling flow's user erasure also erases the user's albums
        (faceflow.storage.albums)."""
        for name in (AlbumEnv.TABLE, *ALBUM_BUCKET_ENV.values()):
            fn.function.add_environment(name.value, self.album_env[name])
        fn.allow("AlbumKey", KMS_ACTIONS, [self.storage.key.key_arn])
        fn.allow_table("Album", self.table, "Query", "DeleteItem", "BatchWriteItem", "GetItem")
        # Named exports: the erasure role's findings name them, not CDK's hashed export names.
        arns = {
            name: self.export_value(b.bucket_arn, name=f"{self.stack_name}-{name}BucketArn")
            for name, b in self.storage.buckets.items()
        }
        self.grant_album_deletion(fn, *arns.values(), uploads=arns["Raw"])
