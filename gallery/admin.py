from django.contrib import admin

from gallery.models import PassagePreview

admin.site.register(PassagePreview)
